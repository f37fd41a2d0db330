# The staff console's AWS home (docs/CONSOLE.md): the console router (crates/console) in the
# `console` Lambda behind a function URL, staff signed in with an Amazon Cognito user pool
# (hosted UI, authorization code + PKCE), sessions and the audit log in the table. Created when
# var.console_shop names one of var.shops.
#
# No dependency cycle: the app client's callback URL is the function URL, so the function cannot
# get the client id in an env var; Terraform writes the client id and the URL to an SSM parameter
# (console_client) that the function reads at cold start, named in its env by the known name.

locals {
  console_enabled          = var.console_shop != null
  console_parameter_prefix = "/${var.project}/${var.environment}/console/"
  console_client_parameter = "${local.console_parameter_prefix}client"
  console_cookie_parameter = "${local.console_parameter_prefix}cookie-key"
  # Globally unique per region: the account id makes it so.
  console_domain_prefix  = coalesce(var.console_domain_prefix, "${local.name}-staff-${local.account_id}")
  placeholder_cookie_key = "PLACEHOLDER: put 64 random hex characters here with aws ssm put-parameter --overwrite (docs/CONSOLE.md)"
}

resource "aws_cognito_user_pool" "staff" {
  count = local.console_enabled ? 1 : 0

  name                = "${local.name}-staff"
  deletion_protection = "ACTIVE"
  # Staff sign in with their e-mail address.
  username_attributes      = ["email"]
  auto_verified_attributes = ["email"]

  # Only the shop owner creates staff accounts (aws cognito-idp admin-create-user): no sign-up.
  admin_create_user_config {
    allow_admin_create_user_only = true
  }

  password_policy {
    minimum_length                   = 12
    require_lowercase                = true
    require_uppercase                = true
    require_numbers                  = true
    require_symbols                  = true
    temporary_password_validity_days = 3
  }

  # Each staff member may add an authenticator app (TOTP); the shop owner can make it required
  # by setting "ON" here once every account has one.
  mfa_configuration = var.console_mfa
  software_token_mfa_configuration {
    enabled = true
  }

  account_recovery_setting {
    recovery_mechanism {
      name     = "verified_email"
      priority = 1
    }
  }
}

resource "aws_cognito_user_pool_domain" "staff" {
  count = local.console_enabled ? 1 : 0

  domain       = local.console_domain_prefix
  user_pool_id = aws_cognito_user_pool.staff[0].id
}

# A public client (no secret: the Lambda keeps none), authorization code flow only; PKCE (S256)
# protects the code, the console sends its challenge with every sign-in.
resource "aws_cognito_user_pool_client" "console" {
  count = local.console_enabled ? 1 : 0

  name                                 = "${local.name}-console"
  user_pool_id                         = aws_cognito_user_pool.staff[0].id
  generate_secret                      = false
  allowed_oauth_flows_user_pool_client = true
  allowed_oauth_flows                  = ["code"]
  allowed_oauth_scopes                 = ["openid", "email", "profile"]
  supported_identity_providers         = ["COGNITO"]
  callback_urls                        = ["${trimsuffix(aws_lambda_function_url.console[0].function_url, "/")}/auth/callback"]
  explicit_auth_flows                  = ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
  # The ID token carries the name the audit log records (name, else email).
  read_attributes               = ["email", "email_verified", "name"]
  prevent_user_existence_errors = "ENABLED"
  enable_token_revocation       = true
  # The console keeps its own session (8 hours) after reading the ID token once.
  id_token_validity      = 60
  access_token_validity  = 60
  refresh_token_validity = 1
  token_validity_units {
    id_token      = "minutes"
    access_token  = "minutes"
    refresh_token = "days"
  }
}

# The app client id and the console's URL, for the function (not secret).
resource "aws_ssm_parameter" "console_client" {
  #checkov:skip=CKV2_AWS_34:Holds the public app client id and the function URL, no secret; a String so that the function reads it without decrypt rights.
  count = local.console_enabled ? 1 : 0

  name        = local.console_client_parameter
  description = "ichigen console: the Cognito app client id and the console URL (JSON), written by Terraform."
  type        = "String"
  tier        = "Standard"
  value = jsonencode({
    client_id   = aws_cognito_user_pool_client.console[0].id
    console_url = aws_lambda_function_url.console[0].function_url
  })
}

# The key that signs the console's sign-in cookie: created with a placeholder and never read or
# written by Terraform again (the key stays out of the state); the operator puts a random value
# in once (docs/CONSOLE.md). Until then the function refuses to start.
resource "aws_ssm_parameter" "console_cookie_key" {
  count = local.console_enabled ? 1 : 0

  name        = local.console_cookie_parameter
  description = "ichigen console: the key signing the sign-in cookie (64 random hex characters). Set by the operator, never by Terraform."
  type        = "SecureString"
  tier        = "Standard"
  key_id      = local.kms_key_arn
  value       = local.placeholder_cookie_key

  lifecycle {
    ignore_changes = [value]
  }
}

data "aws_iam_policy_document" "console" {
  # Orders (GetItem, conditional PutItem and TransactWriteItems with the tab counter), settings,
  # blacklist, the pair's pending writes (acknowledgements), the mail history (ledger, delivery
  # events), the audit log and sessions (PutItem, GetItem, DeleteItem, Query), list pages'
  # records (BatchGetItem).
  statement {
    sid = "Table"
    actions = [
      "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
      "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:ConditionCheckItem",
    ]
    resources = [aws_dynamodb_table.main.arn]
  }

  # The order list (by_time, by_tab), the rules simulation (by_status), 同梱 candidates of a
  # corrected destination (by_bundle).
  statement {
    sid     = "Indexes"
    actions = ["dynamodb:Query"]
    resources = [
      "${aws_dynamodb_table.main.arn}/index/by_time",
      "${aws_dynamodb_table.main.arn}/index/by_tab",
      "${aws_dynamodb_table.main.arn}/index/by_status",
      "${aws_dynamodb_table.main.arn}/index/by_bundle",
    ]
  }

  # By name, not by the resources' ARNs: the client parameter depends on the function URL, which
  # depends on this policy's function.
  statement {
    sid     = "ConsoleParameters"
    actions = ["ssm:GetParameter"]
    resources = [
      "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.console_client_parameter}",
      "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.console_cookie_parameter}",
    ]
  }

  # A staff action's mails (the thank-you a release lets go, a corrected order's) go on the
  # notifier's mail queue, as the processor's do: the notifier sends them (SES or a relay), so the
  # console needs neither SES nor the relay credentials.
  statement {
    sid       = "MailJobs"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.mail.arn]
  }

  dynamic "statement" {
    for_each = var.customer_managed_key ? [1] : []
    content {
      sid       = "ProjectKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [local.kms_key_arn]
    }
  }
}

module "console" {
  source = "./modules/lambda_function"
  count  = local.console_enabled ? 1 : 0

  name_prefix   = local.name
  function      = "console"
  description   = "The staff console (受注一覧, 受注詳細, ...) behind a function URL; staff sign in with Cognito."
  artifacts_dir = local.artifacts_dir
  memory_size   = 512
  timeout       = 15
  policy_json   = data.aws_iam_policy_document.console.json

  environment = {
    TABLE_NAME               = aws_dynamodb_table.main.name
    SHOP_ID                  = var.console_shop
    MAIL_QUEUE_URL           = aws_sqs_queue.mail.url
    COGNITO_POOL_ID          = aws_cognito_user_pool.staff[0].id
    COGNITO_DOMAIN           = "https://${local.console_domain_prefix}.auth.${local.region}.amazoncognito.com"
    COGNITO_CLIENT_PARAMETER = local.console_client_parameter
    COOKIE_KEY_PARAMETER     = local.console_cookie_parameter
  }

  reserved_concurrency = var.console_concurrency
  kms_key_arn          = local.kms_key_arn
  log_retention_days   = var.log_retention_days
}

# Public URL, no IAM auth: browsers cannot sign requests; the console authenticates every request
# itself (Cognito session cookie; every POST with the session's CSRF token).
resource "aws_lambda_function_url" "console" {
  #checkov:skip=CKV_AWS_258:Staff browsers cannot sign requests with IAM; the console refuses every request without a Cognito session (docs/CONSOLE.md, functions/console/tests).
  count = local.console_enabled ? 1 : 0

  function_name      = module.console[0].function_name
  authorization_type = "NONE"
}
