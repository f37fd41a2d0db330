//! `ichigen sandbox`: starts an emulator on 127.0.0.1 and tells the user where and with what.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

/// Kills the sandbox even when an assertion fails.
struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(marketplace: &str) -> (Kill, String, Vec<String>) {
    let child = Command::new(assert_cmd::cargo::cargo_bin("ichigen"))
        .args(["sandbox", "--marketplace", marketplace, "--orders", "20"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut child = Kill(child);
    let stdout = child.0.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("line");
        let done = line.starts_with("Ctrl-C");
        printed.push(line);
        if done {
            break;
        }
    }
    let url = printed[0].rsplit(' ').next().expect("url").to_string();
    (child, url, printed)
}

#[test]
fn every_marketplace_sandbox_starts_on_loopback_and_prints_its_credentials() {
    for mp in ["rakuten", "yahoo", "amazon", "aupay", "qoo10"] {
        let (_child, url, printed) = start(mp);
        assert!(url.starts_with("http://127.0.0.1:"), "{mp}: {printed:?}");
        assert!(printed.iter().any(|l| l == "orders: 20 (seed 1)"), "{printed:?}");
        assert!(printed.len() >= 4, "credentials are printed: {printed:?}");
        TcpStream::connect(url.trim_start_matches("http://")).expect("listening");
    }
}

#[test]
fn the_rakuten_sandbox_refuses_wrong_credentials_as_rms_does() {
    let (_child, url, _) = start("rakuten");
    let mut s = TcpStream::connect(url.trim_start_matches("http://")).expect("connect");
    let body = "{}";
    write!(
        s,
        "POST /es/2.0/order/searchOrder/ HTTP/1.1\r\nHost: x\r\nAuthorization: ESA bad\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("read");
    assert!(reply.starts_with("HTTP/1.1 401"), "{reply}");
    assert!(reply.contains("ES01-01"), "{reply}");
}
