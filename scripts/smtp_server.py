"""A real SMTP submission server for ichigen's tests, on aiosmtpd (started by scripts/smtp).

It behaves as 楽天's relay is documented to (../shared/marketplaces/rakuten-rms.md §13): STARTTLS
required before anything else, SMTP AUTH (PLAIN or LOGIN) with one user, and only registered
sender addresses: any other envelope sender gets `552 5.2.0 sender rejected`. Each accepted
message is saved whole, as one JSON file in the mail folder (written under a temporary name, then
renamed), with the envelope, the authenticated user and whether TLS was on.
"""

import argparse
import asyncio
import json
import os
import signal
import ssl
import time
import uuid

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Authenticator:
    """Accepts exactly one user and password."""

    def __init__(self, user: str, password: str):
        self.user = user.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.user
            and auth_data.password == self.password
        )
        if not ok:
            # smtp_AUTH answers 535 5.7.8 Authentication credentials invalid.
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=self.user.decode())


class SaveToFolder:
    """Checks the sender, saves each message."""

    def __init__(self, folder: str, senders: set):
        self.folder = folder
        self.senders = senders

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.senders and address.lower() not in self.senders:
            return "552 5.2.0 sender rejected"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or envelope.content or b""
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "auth_user": session.auth_data,
            "tls": session.ssl is not None,
            "data": content.decode("utf-8", "replace") if isinstance(content, bytes) else content,
        }
        name = f"{time.time_ns()}-{uuid.uuid4().hex}.json"
        temp = os.path.join(self.folder, f".{name}.tmp")
        with open(temp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(temp, os.path.join(self.folder, name))
        return "250 2.0.0 Message accepted for delivery"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password-file", required=True)
    p.add_argument("--sender", action="append", default=[])
    p.add_argument("--maildir", required=True)
    args = p.parse_args()
    with open(args.password_file, encoding="utf-8") as f:
        password = f.read().strip()
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(args.cert, args.key)
    controller = Controller(
        SaveToFolder(args.maildir, {s.lower() for s in args.sender}),
        hostname="127.0.0.1",
        port=args.port,
        tls_context=tls,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=Authenticator(args.user, password),
    )
    controller.start()
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    loop.run_until_complete(stop.wait())
    controller.stop()


if __name__ == "__main__":
    main()
