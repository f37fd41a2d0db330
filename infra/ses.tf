# SES: a domain identity per sender domain of the shops (Easy DKIM: publish the CNAME records of
# the dkim_records output), a configuration set the notifier sends under, and, while the account
# is in the SES sandbox, the recipients it may send to.

resource "aws_sesv2_configuration_set" "main" {
  configuration_set_name = local.name

  delivery_options {
    # Not REQUIRE: some Japanese mobile carrier and small ISP mail servers still accept mail
    # without STARTTLS, and a thank-you that is never delivered helps nobody. SES uses TLS
    # whenever the receiving server offers it.
    tls_policy = "OPTIONAL"
  }

  reputation_options {
    reputation_metrics_enabled = true
  }

  sending_options {
    sending_enabled = true
  }

  # Addresses that bounced or complained are not mailed again (protects the sending reputation).
  suppression_options {
    suppressed_reasons = ["BOUNCE", "COMPLAINT"]
  }
}

resource "aws_sesv2_email_identity" "domain" {
  for_each = local.mail_domains

  email_identity         = each.key
  configuration_set_name = aws_sesv2_configuration_set.main.configuration_set_name

  dkim_signing_attributes {
    next_signing_key_length = "RSA_2048_BIT"
  }
}

resource "aws_sesv2_email_identity" "sandbox_recipient" {
  for_each = toset(var.ses_sandbox_recipients)

  email_identity = each.key
}
