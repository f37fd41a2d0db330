# Settings that must be refused at plan time, each by the check that guards it.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  shops = {
    "shop-a" = {
      shop_name    = "ショップA"
      mail_from    = "a@shops.example.jp"
      staff_to     = ["staff@example.jp"]
      marketplaces = { rakuten = { pull_interval_minutes = 3 } }
    }
  }
}

run "runs_of_one_pair_would_overlap" {
  command = plan

  variables {
    puller_timeout_seconds = 240
  }

  expect_failures = [aws_scheduler_schedule.pull]
}

run "no_time_left_for_pages" {
  command = plan

  variables {
    puller_timeout_seconds     = 120
    puller_page_budget_seconds = 90
  }

  expect_failures = [aws_scheduler_schedule.pull]
}

run "lease_outlives_the_visibility_timeout" {
  command = plan

  variables {
    notifier_lease_seconds = 600
  }

  expect_failures = [aws_sqs_queue.mail]
}

run "interval_below_three_minutes" {
  command = plan

  variables {
    shops = {
      "shop-a" = {
        shop_name    = "ショップA"
        mail_from    = "a@shops.example.jp"
        staff_to     = ["staff@example.jp"]
        marketplaces = { rakuten = { pull_interval_minutes = 1 } }
      }
    }
  }

  expect_failures = [var.shops]
}

run "reply_to_not_an_address" {
  command = plan

  variables {
    shops = {
      "shop-a" = {
        shop_name    = "ショップA"
        mail_from    = "a@shops.example.jp"
        staff_to     = ["staff@example.jp"]
        reply_to     = "support"
        marketplaces = { rakuten = {} }
      }
    }
  }

  expect_failures = [var.shops]
}

run "stock_buffer_not_whole_units" {
  command = plan

  variables {
    stock_buffer = 1.5
  }

  expect_failures = [var.stock_buffer]
}

run "a_valid_configuration_still_plans" {
  command = plan
}
