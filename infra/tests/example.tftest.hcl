# The shipped example (scripts/terraform-check passes -var-file=terraform.tfvars.example):
# one shop on 楽天, Yahoo! and Amazon, planned and applied against the mocked provider.

mock_provider "aws" {
  source = "./tests/mocks"
}

run "example_plans" {
  command = plan

  assert {
    condition     = length(aws_scheduler_schedule.pull) == 3 && length(aws_ssm_parameter.credentials) == 3
    error_message = "terraform.tfvars.example has one shop on three marketplaces: three schedules and three credential parameters (was -var-file=terraform.tfvars.example given?)"
  }

  assert {
    condition     = alltrue([for p in aws_ssm_parameter.credentials : p.type == "SecureString" && p.tier == "Standard"])
    error_message = "Credentials are standard-tier SecureStrings (under the AWS managed key: no key_id unless customer_managed_key)."
  }

  assert {
    condition     = length(aws_kms_key.main) == 0 && aws_dynamodb_table.main.server_side_encryption[0].enabled == false
    error_message = "No customer managed key unless customer_managed_key is set."
  }

  assert {
    condition     = aws_ssm_parameter.credentials["my-shop/rakuten"].name == "/ichigen/prod/credentials/my-shop/rakuten" && module.puller.function_name == "ichigen-prod-puller"
    error_message = "The puller reads {SECRET_PREFIX}{shop}/{marketplace}."
  }

  assert {
    condition     = length(aws_scheduler_schedule.credential_check) == 1 && aws_scheduler_schedule.credential_check[0].schedule_expression_timezone == "Asia/Tokyo" && jsondecode(aws_scheduler_schedule.credential_check[0].target[0].input) == { check = "credentials" }
    error_message = "One daily credential check at 09:00 JST, invoking the puller with {\"check\": \"credentials\"}."
  }

  assert {
    condition     = length(aws_scheduler_schedule.digest) == 1 && aws_scheduler_schedule.digest["my-shop"].schedule_expression == "cron(0/15 * * * ? *)" && aws_scheduler_schedule.digest["my-shop"].schedule_expression_timezone == "Asia/Tokyo" && jsondecode(aws_scheduler_schedule.digest["my-shop"].target[0].input) == { digest = "my-shop" }
    error_message = "Each shop's staff digest is asked for every 15 minutes JST, invoking the notifier with {\"digest\": \"<shop>\"}."
  }

  assert {
    condition     = alltrue([for q in [aws_sqs_queue.orders, aws_sqs_queue.orders_dlq, aws_sqs_queue.quarantine, aws_sqs_queue.mail, aws_sqs_queue.mail_dlq, aws_sqs_queue.pull_failures] : q.message_retention_seconds == 1209600 && q.sqs_managed_sse_enabled == true])
    error_message = "Every queue keeps messages 14 days, encrypted with SSE-SQS by default."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.pull_failures.period == 900 && aws_cloudwatch_metric_alarm.pull_failures.datapoints_to_alarm == 3 && aws_cloudwatch_metric_alarm.pull_failures.evaluation_periods == 4
    error_message = "The pull-failures alarm fires on failures in 3 of 4 quarter-hours, not on one blip."
  }
}

run "example_applies" {
  command = apply

  assert {
    condition     = length(output.credential_parameters) == 3 && length(output.mail_from_records) == 1
    error_message = "The outputs list the three credential parameters and the one MAIL FROM domain."
  }

  assert {
    condition     = output.mail_from_records["mail.example.jp"].mail_from_domain == "bounce.mail.example.jp"
    error_message = "MAIL FROM is bounce.<sender domain>."
  }

  assert {
    condition     = jsondecode(aws_dynamodb_table_item.shop_settings["my-shop"].item).reply_to.S == "shop@mail.example.jp"
    error_message = "Without reply_to, buyers' answers go to the sender address."
  }
}
