output "table_name" {
  description = "The DynamoDB table (orders, watermarks, settings, blacklist, mail ledger)."
  value       = aws_dynamodb_table.main.name
}

output "functions" {
  description = "Lambda function names."
  value = {
    puller    = module.puller.function_name
    processor = module.processor.function_name
    notifier  = module.notifier.function_name
    importer  = module.importer.function_name
  }
}

output "log_groups" {
  description = "Each function's log group."
  value = {
    puller    = module.puller.log_group_name
    processor = module.processor.log_group_name
    notifier  = module.notifier.log_group_name
    importer  = module.importer.log_group_name
  }
}

output "queues" {
  description = "SQS queue URLs."
  value = {
    orders         = aws_sqs_queue.orders.url
    orders_dlq     = aws_sqs_queue.orders_dlq.url
    quarantine     = aws_sqs_queue.quarantine.url
    mail           = aws_sqs_queue.mail.url
    mail_dlq       = aws_sqs_queue.mail_dlq.url
    pull_failures  = aws_sqs_queue.pull_failures.url
    imports        = aws_sqs_queue.imports.url
    imports_dlq    = aws_sqs_queue.imports_dlq.url
    follow_ups     = aws_sqs_queue.follow_ups.url
    follow_ups_dlq = aws_sqs_queue.follow_ups_dlq.url
  }
}

output "credential_parameters" {
  description = "SSM SecureString parameter per shop/marketplace: put that pair's credentials JSON into each with aws ssm put-parameter --overwrite (docs/DEPLOY.md)."
  value       = { for key, p in aws_ssm_parameter.credentials : key => p.name }
}

output "credential_expiry_parameters" {
  description = "SSM parameter per shop/marketplace recording when its credentials expire (JSON of YYYY-MM-DD dates; docs/DEPLOY.md)."
  value       = { for key, p in aws_ssm_parameter.credential_expiry : key => p.name }
}

output "schedules" {
  description = "Schedule name per shop/marketplace (group: schedule_group)."
  value       = { for key, s in aws_scheduler_schedule.pull : key => s.name }
}

output "schedule_group" {
  description = "The EventBridge Scheduler group of the pull schedules."
  value       = aws_scheduler_schedule_group.pulls.name
}

output "ses_configuration_set" {
  description = "The SES configuration set the notifier sends under."
  value       = aws_sesv2_configuration_set.main.configuration_set_name
}

output "dkim_records" {
  description = "DNS CNAME records that verify each sender domain (Easy DKIM): name => value."
  value = merge([
    for domain, identity in aws_sesv2_email_identity.domain : {
      for token in identity.dkim_signing_attributes[0].tokens :
      "${token}._domainkey.${domain}" => "${token}.dkim.amazonses.com"
    }
  ]...)
}

output "mail_from_records" {
  description = "DNS records of each sender domain's custom MAIL FROM subdomain: an MX to SES's feedback endpoint and an SPF TXT record. Publish both (docs/DEPLOY.md)."
  value = {
    for domain, attributes in aws_sesv2_email_identity_mail_from_attributes.domain : domain => {
      mail_from_domain = attributes.mail_from_domain
      mx               = "10 feedback-smtp.${local.region}.amazonses.com"
      spf_txt          = "v=spf1 include:amazonses.com ~all"
    }
  }
}

output "mail_events_topic_arn" {
  description = "SNS topic telling staff which buyer mails bounced or were complained about (subscribe with mail_events_emails)."
  value       = aws_sns_topic.mail_events.arn
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies."
  value       = aws_sns_topic.alarms.arn
}

output "kms_key_arn" {
  description = "The customer managed key when customer_managed_key is on; null otherwise."
  value       = local.kms_key_arn
}

output "console_url" {
  description = "The staff console (function URL); null without console_shop. Staff open <url>login."
  value       = local.console_enabled ? aws_lambda_function_url.console[0].function_url : null
}

output "staff_user_pool_id" {
  description = "The Cognito user pool of the console's staff: create accounts with aws cognito-idp admin-create-user (docs/CONSOLE.md); null without console_shop."
  value       = local.console_enabled ? aws_cognito_user_pool.staff[0].id : null
}

output "import_bucket" {
  description = "Where staff drop tracking files: s3://<bucket>/imports/<shop id>/<name>[.b2|.ehiden|.yupri|.plain].csv."
  value = {
    bucket  = aws_s3_bucket.imports.bucket
    folders = { for shop_id, _ in var.shops : shop_id => "${local.import_prefix}${shop_id}/" }
  }
}
