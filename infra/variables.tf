variable "project" {
  description = "Project name: the first part of every resource name."
  type        = string
  default     = "ichigen"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.project))
    error_message = "project must be 2-16 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "environment" {
  description = "Environment name (prod, staging, ...): the second part of every resource name."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,9}$", var.environment))
    error_message = "environment must be 2-10 lower-case letters or digits, starting with a letter."
  }
}

variable "region" {
  description = "AWS region (SES must be available there)."
  type        = string
  default     = "ap-northeast-1"
}

variable "tags" {
  description = "Extra tags on every resource."
  type        = map(string)
  default     = {}
}

variable "shops" {
  description = <<-EOT
    The shops, keyed by ichigen shop id (lower-case slug, as in orders, secrets and schedules).
    Per shop: its name as buyers know it, the sender address of buyer mails (its domain becomes an
    SES identity), where staff alerts go, optional rules (TOML text as in rules.example.toml),
    mail signature and Reply-To address (where buyers' answers go; null: the sender address),
    and the marketplaces it sells on with how often each is pulled.
  EOT
  type = map(object({
    shop_name = string
    mail_from = string
    staff_to  = list(string)
    rules     = optional(string, "")
    signature = optional(string, "")
    reply_to  = optional(string)
    marketplaces = map(object({
      pull_interval_minutes = optional(number, 5)
      enabled               = optional(bool, true)
    }))
  }))
  default = {}

  validation {
    condition     = alltrue([for id, _ in var.shops : can(regex("^[a-z0-9][a-z0-9-]{0,31}$", id))])
    error_message = "Shop ids are 1-32 lower-case letters, digits or hyphens (no '#': it separates key parts)."
  }

  validation {
    condition = alltrue(flatten([
      for _, shop in var.shops : [for m, _ in shop.marketplaces : contains(["rakuten", "yahoo", "amazon", "aupay", "qoo10"], m)]
    ]))
    error_message = "Marketplaces are rakuten, yahoo, amazon, aupay or qoo10."
  }

  validation {
    condition = alltrue(flatten([
      for _, shop in var.shops : [for _, m in shop.marketplaces : m.pull_interval_minutes >= 3 && m.pull_interval_minutes <= 1440 && floor(m.pull_interval_minutes) == m.pull_interval_minutes]
    ]))
    error_message = "pull_interval_minutes is a whole number from 3 (longer than the puller's timeout) to 1440."
  }

  validation {
    condition     = alltrue([for _, shop in var.shops : shop.reply_to == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", shop.reply_to))])
    error_message = "reply_to must be one e-mail address, or left out."
  }

  validation {
    condition     = alltrue([for _, shop in var.shops : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", shop.mail_from))])
    error_message = "mail_from must be one e-mail address (its domain is verified in SES)."
  }
}

variable "ses_sandbox_recipients" {
  description = "While the SES account is in the sandbox, every recipient must be a verified identity: list the staff and test addresses here (each gets a verification mail). Empty once production access is granted."
  type        = list(string)
  default     = []
}

variable "customer_managed_key" {
  description = "Encrypt the table, queues, credential parameters, logs, schedules and topics with one customer managed KMS key ($1 a month plus requests) instead of each service's own key. For shops whose policy requires key control (key policy, CloudTrail of every use, crypto-shredding)."
  type        = bool
  default     = false
}

variable "monthly_budget_usd" {
  description = "AWS Budgets alert: the alarm topic is told when this month's actual or forecast cost of the account passes this many USD."
  type        = number
  default     = 5

  validation {
    condition     = var.monthly_budget_usd > 0
    error_message = "monthly_budget_usd must be positive."
  }
}

variable "mail_from_subdomain" {
  description = "Custom MAIL FROM (envelope sender) subdomain of every sender domain: bounces go to <this>.<domain>, whose MX and SPF records (output mail_from_records) make SPF align with the From domain for DMARC."
  type        = string
  default     = "bounce"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.mail_from_subdomain))
    error_message = "mail_from_subdomain is one DNS label (lower-case letters, digits, hyphens)."
  }
}

variable "mail_events_emails" {
  description = "Addresses subscribed to the mail-events topic: one mail per buyer mail that bounced or was complained about (the buyer address, the shop's sender, the SES feedback). Confirm each subscription mail."
  type        = list(string)
  default     = []
}

variable "alarm_email" {
  description = "Address subscribed to the alarm topic (confirm the subscription mail); null for none."
  type        = string
  default     = null
}

variable "artifacts_dir" {
  description = "Folder with {puller,processor,notifier,console}/bootstrap.zip, as scripts/build-lambdas writes them."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Days the functions' log groups keep events."
  type        = number
  default     = 365
}

variable "order_retention_days" {
  description = "Days an order is kept after its order date (DynamoDB TTL; 0 keeps orders forever). Sets the processor's RETENTION_DAYS."
  type        = number
  default     = 730
}

variable "puller_timeout_seconds" {
  description = "Puller timeout. Pages start only while PAGE_BUDGET_SECONDS are left, so a run pulls for about timeout - page budget."
  type        = number
  default     = 120
}

variable "puller_page_budget_seconds" {
  description = "PAGE_BUDGET_SECONDS: time a page (search + details + queueing) may take; no page starts with less time left."
  type        = number
  default     = 45
}

variable "puller_http_timeout_seconds" {
  description = "HTTP_TIMEOUT_SECONDS: timeout of one marketplace HTTP call."
  type        = number
  default     = 15
}

variable "pull_overlap_seconds" {
  description = "PULL_OVERLAP_SECONDS: each pull re-reads this much before its watermark (late-indexed orders)."
  type        = number
  default     = 900
}

variable "first_lookback_hours" {
  description = "FIRST_LOOKBACK_HOURS: how far back the very first pull of a shop × marketplace reaches."
  type        = number
  default     = 72
}

variable "stock_buffer" {
  description = "STOCK_BUFFER: units of each SKU no marketplace is given when the puller pushes stock numbers (docs/STOCK.md): covers sales a mall makes between a push's read and its write, and a mall that shows writes late."
  type        = number
  default     = 0

  validation {
    condition     = var.stock_buffer >= 0 && floor(var.stock_buffer) == var.stock_buffer
    error_message = "stock_buffer is a whole number of units, 0 or more."
  }
}

variable "puller_reserved_concurrency" {
  description = "Puller reserved concurrency; null: one per shop × marketplace pair, plus two for the follow-up queue's batches. Runs of one pair never overlap (timeout < interval, and the pair's lease), so this caps a burst of retries, not the steady state."
  type        = number
  default     = null
}

variable "processor_concurrency" {
  description = "Processor reserved concurrency and the orders queue mapping's maximum concurrency (at least 2)."
  type        = number
  default     = 2
}

variable "notifier_concurrency" {
  description = "Notifier reserved concurrency and the mail queue mapping's maximum concurrency (at least 2): keeps the SES send rate under the account's quota."
  type        = number
  default     = 2
}

variable "notifier_lease_seconds" {
  description = "LEASE_SECONDS: how long a mail claim blocks other senders; must be shorter than the mail queue's visibility timeout."
  type        = number
  default     = 120
}

variable "console_shop" {
  description = "The shop (a key of shops) whose staff console is deployed: a Lambda behind a function URL and a Cognito user pool for its staff (docs/CONSOLE.md). null: no console."
  type        = string
  default     = null

  validation {
    condition     = var.console_shop == null || contains(keys(var.shops), coalesce(var.console_shop, "-"))
    error_message = "console_shop must be one of the shops' ids."
  }
}

variable "console_domain_prefix" {
  description = "Prefix of the Cognito hosted UI domain (https://<prefix>.auth.<region>.amazoncognito.com); null: <project>-<environment>-staff-<account id>."
  type        = string
  default     = null
}

variable "console_mfa" {
  description = "Cognito MFA for staff: OPTIONAL (each may add an authenticator app) or ON (required)."
  type        = string
  default     = "OPTIONAL"

  validation {
    condition     = contains(["OPTIONAL", "ON"], var.console_mfa)
    error_message = "console_mfa is OPTIONAL or ON."
  }
}

variable "console_concurrency" {
  description = "Reserved concurrency of the console function: how many requests it serves at once."
  type        = number
  default     = 5
}

variable "import_expiry_days" {
  description = "Days a tracking file stays in the import bucket before S3 deletes it (read or not)."
  type        = number
  default     = 30

  validation {
    condition     = var.import_expiry_days >= 1 && floor(var.import_expiry_days) == var.import_expiry_days
    error_message = "import_expiry_days must be a whole number of days, at least 1."
  }
}
