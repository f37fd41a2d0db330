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

# Custom MAIL FROM: the envelope sender (Return-Path) of each sender domain is
# <mail_from_subdomain>.<domain> instead of amazonses.com, so SPF passes for the shop's own
# domain and aligns with the From domain (DMARC). Publish the MX and TXT records of the
# mail_from_records output; until they resolve, SES falls back to its own MAIL FROM
# (USE_DEFAULT_VALUE) rather than refusing to send.
resource "aws_sesv2_email_identity_mail_from_attributes" "domain" {
  for_each = aws_sesv2_email_identity.domain

  email_identity         = each.value.email_identity
  mail_from_domain       = "${var.mail_from_subdomain}.${each.key}"
  behavior_on_mx_failure = "USE_DEFAULT_VALUE"
}

# Bounces and complaints of buyer mails, one SNS message each (the buyer address, the sender,
# SES's feedback, the mail's tags): the notifier records each against its order and suppresses
# the address for the shop (`ichigen mail bounces` lists them); staff may also subscribe with
# var.mail_events_emails. SES's own account-level suppression list applies as well.
resource "aws_sns_topic" "mail_events" {
  #checkov:skip=CKV_AWS_26:SNS keeps no messages at rest beyond delivery retries; with the AWS managed key aws/sns, SES could not publish (it needs a key policy grant), so the topic is encrypted only with the opt-in customer managed key.
  name              = "${local.name}-mail-events"
  kms_master_key_id = local.kms_key_arn
}

data "aws_iam_policy_document" "mail_events_topic" {
  statement {
    sid       = "SesEventsOfThisConfigurationSet"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.mail_events.arn]
    principals {
      type        = "Service"
      identifiers = ["ses.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [aws_sesv2_configuration_set.main.arn]
    }
  }
}

resource "aws_sns_topic_policy" "mail_events" {
  arn    = aws_sns_topic.mail_events.arn
  policy = data.aws_iam_policy_document.mail_events_topic.json
}

resource "aws_sns_topic_subscription" "mail_events_email" {
  for_each = toset(var.mail_events_emails)

  topic_arn = aws_sns_topic.mail_events.arn
  protocol  = "email"
  endpoint  = each.key
}

resource "aws_sesv2_configuration_set_event_destination" "bounces_and_complaints" {
  configuration_set_name = aws_sesv2_configuration_set.main.configuration_set_name
  event_destination_name = "bounces-and-complaints"

  event_destination {
    enabled              = true
    matching_event_types = ["BOUNCE", "COMPLAINT"]

    sns_destination {
      topic_arn = aws_sns_topic.mail_events.arn
    }
  }

  depends_on = [aws_sns_topic_policy.mail_events]
}

# The notifier takes the topic's events directly (SNS invokes Lambda; no queue to poll, so a
# quiet month costs nothing here). Lambda retries a failed asynchronous invocation twice.
resource "aws_sns_topic_subscription" "mail_events_notifier" {
  topic_arn = aws_sns_topic.mail_events.arn
  protocol  = "lambda"
  endpoint  = module.notifier.arn
}

resource "aws_lambda_permission" "mail_events_notifier" {
  statement_id  = "MailEventsTopic"
  action        = "lambda:InvokeFunction"
  function_name = module.notifier.function_name
  principal     = "sns.amazonaws.com"
  source_arn    = aws_sns_topic.mail_events.arn
}
