# Values the mocked hashicorp/aws provider returns in `terraform test` (scripts/terraform-check).
# Left alone, a mock returns random strings; these give the attributes that other resources or
# outputs read a realistic shape.

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
    arn        = "arn:aws:iam::123456789012:user/terraform-test"
  }
}

mock_data "aws_partition" {
  defaults = {
    partition  = "aws"
    dns_suffix = "amazonaws.com"
  }
}

mock_data "aws_iam_policy_document" {
  defaults = {
    json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
  }
}

mock_resource "aws_sqs_queue" {
  defaults = {
    arn = "arn:aws:sqs:ap-northeast-1:123456789012:mock-queue"
    url = "https://sqs.ap-northeast-1.amazonaws.com/123456789012/mock-queue"
  }
}

mock_resource "aws_sns_topic" {
  defaults = {
    arn = "arn:aws:sns:ap-northeast-1:123456789012:mock-topic"
  }
}

mock_resource "aws_dynamodb_table" {
  defaults = {
    arn = "arn:aws:dynamodb:ap-northeast-1:123456789012:table/mock"
  }
}

mock_resource "aws_ssm_parameter" {
  defaults = {
    arn = "arn:aws:ssm:ap-northeast-1:123456789012:parameter/mock"
  }
}

mock_resource "aws_kms_key" {
  defaults = {
    arn    = "arn:aws:kms:ap-northeast-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    key_id = "00000000-0000-0000-0000-000000000000"
  }
}

mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::123456789012:role/mock"
  }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:ap-northeast-1:123456789012:log-group:/aws/lambda/mock"
  }
}

mock_resource "aws_lambda_function" {
  defaults = {
    arn = "arn:aws:lambda:ap-northeast-1:123456789012:function:mock"
  }
}

mock_resource "aws_sesv2_configuration_set" {
  defaults = {
    arn = "arn:aws:ses:ap-northeast-1:123456789012:configuration-set/mock"
  }
}

mock_resource "aws_sesv2_email_identity" {
  defaults = {
    arn = "arn:aws:ses:ap-northeast-1:123456789012:identity/mock.example"
  }
}

mock_resource "aws_lambda_function_url" {
  defaults = {
    function_url = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.ap-northeast-1.on.aws/"
  }
}

mock_resource "aws_cognito_user_pool" {
  defaults = {
    id  = "ap-northeast-1_AbCdEfGhI"
    arn = "arn:aws:cognito-idp:ap-northeast-1:123456789012:userpool/ap-northeast-1_AbCdEfGhI"
  }
}

mock_resource "aws_cognito_user_pool_client" {
  defaults = {
    id = "1example23456789abcdefghij"
  }
}

mock_resource "aws_s3_bucket" {
  defaults = {
    arn = "arn:aws:s3:::ichigen-prod-imports-123456789012"
  }
}
