# The staff console's AWS home (console.tf): off by default, and with console_shop set a Cognito
# pool where only the owner creates staff, a public code+PKCE client whose callback is the
# function URL, the function URL itself, and the function's config.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  shops = {
    "my-shop" = {
      shop_name    = "マイショップ"
      mail_from    = "shop@mail.example.jp"
      staff_to     = ["staff@example.jp"]
      marketplaces = { rakuten = {}, yahoo = {} }
    }
  }
}

run "no_console_by_default" {
  command = plan

  assert {
    condition     = length(module.console) == 0 && length(aws_cognito_user_pool.staff) == 0 && length(aws_lambda_function_url.console) == 0
    error_message = "Without console_shop there is no console, pool or function URL."
  }
}

run "console_for_one_shop" {
  command = apply

  variables {
    console_shop = "my-shop"
  }

  assert {
    condition     = aws_cognito_user_pool.staff[0].admin_create_user_config[0].allow_admin_create_user_only && aws_cognito_user_pool.staff[0].password_policy[0].minimum_length >= 12 && aws_cognito_user_pool.staff[0].mfa_configuration == "OPTIONAL"
    error_message = "Only the shop owner creates staff accounts; passwords of 12+ characters; MFA available."
  }

  assert {
    condition     = aws_cognito_user_pool_client.console[0].generate_secret == false && aws_cognito_user_pool_client.console[0].allowed_oauth_flows == toset(["code"]) && aws_cognito_user_pool_client.console[0].callback_urls == toset(["https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.ap-northeast-1.on.aws/auth/callback"])
    error_message = "A public client with the code flow only, its callback the function URL's /auth/callback."
  }

  assert {
    condition     = aws_lambda_function_url.console[0].authorization_type == "NONE" && module.console[0].function_name == "ichigen-prod-console"
    error_message = "The console function behind a function URL (the console authenticates every request)."
  }

  assert {
    condition     = jsondecode(aws_ssm_parameter.console_client[0].value) == { client_id = "1example23456789abcdefghij", console_url = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.ap-northeast-1.on.aws/" } && aws_ssm_parameter.console_cookie_key[0].type == "SecureString"
    error_message = "The client parameter holds the client id and URL; the cookie key is a SecureString."
  }

  assert {
    condition     = output.console_url == "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.ap-northeast-1.on.aws/" && output.staff_user_pool_id == "ap-northeast-1_AbCdEfGhI"
    error_message = "The outputs name the console URL and the staff pool."
  }
}

run "console_shop_must_be_a_shop" {
  command = plan

  variables {
    console_shop = "no-such-shop"
  }

  expect_failures = [var.console_shop]
}
