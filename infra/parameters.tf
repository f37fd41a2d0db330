# Marketplace credentials: one SSM Parameter Store SecureString per shop × marketplace (standard
# tier: no charge per parameter, none for API calls at standard throughput), encrypted with the
# AWS managed key alias/aws/ssm, or with the customer managed key when opted in (kms.tf).
#
# Terraform creates each parameter with a placeholder and never reads or writes its value again
# (ignore_changes): the operator puts the pair's credentials JSON (docs/MARKETPLACES.md) in with
# `aws ssm put-parameter --overwrite` (docs/DEPLOY.md), so no credential is ever in the
# repository, in a tfvars file or in the Terraform state. Until then that pair's pulls fail with
# ichigen.PullNeedsOperator (the placeholder is not a credentials JSON).

locals {
  placeholder_credentials = "PLACEHOLDER: put this pair's credentials JSON here with aws ssm put-parameter --overwrite (docs/DEPLOY.md)"

  # What expires in each marketplace's credentials, and its usual lifetime in days
  # (the fact sheets under docs/MARKETPLACES.md; docs/DEPLOY.md "Credentials that expire").
  # 0: no fixed lifetime (valid until revoked or the seller's password changes).
  expiring_credentials = {
    rakuten = { license_key = 90 }
    yahoo   = { refresh_token = 28, public_key = 365 }
    amazon  = { lwa_client_secret = 180 }
    aupay   = { api_key = 90 }
    qoo10   = { api_key = 365 }
  }
}

resource "aws_ssm_parameter" "credentials" {
  for_each = local.pairs

  name        = "${local.secret_prefix}${each.value.shop_id}/${each.value.marketplace}"
  description = "ichigen credentials of shop ${each.value.shop_id} on ${each.value.marketplace} (JSON; docs/MARKETPLACES.md). Set by the operator, never by Terraform."
  type        = "SecureString"
  tier        = "Standard"
  key_id      = local.kms_key_arn
  value       = local.placeholder_credentials

  lifecycle {
    # The operator's value (the real credentials) stays out of every plan and apply.
    ignore_changes = [value]
  }
}

# When each credential of a pair expires: a String parameter (not secret) holding JSON
# {"<credential>": "YYYY-MM-DD", ...}, with one key per expiring credential of the marketplace,
# "unknown" until the operator records the date with every renewal (docs/DEPLOY.md). A daily check
# reads these (GetParametersByPath on the expiry prefix) to warn 14 days ahead.
resource "aws_ssm_parameter" "credential_expiry" {
  #checkov:skip=CKV2_AWS_34:Holds expiry dates only, never a credential; a plain String so that a check or a person can read the dates without decrypt rights on the credentials.
  for_each = local.pairs

  name        = "${local.expiry_prefix}${each.value.shop_id}/${each.value.marketplace}"
  description = "Expiry dates (YYYY-MM-DD, JST) of the ${each.value.marketplace} credentials of shop ${each.value.shop_id}; usual lifetimes in days: ${jsonencode(local.expiring_credentials[each.value.marketplace])}. Update with every renewal (docs/DEPLOY.md)."
  type        = "String"
  tier        = "Standard"
  value       = jsonencode({ for credential, _ in local.expiring_credentials[each.value.marketplace] : credential => "unknown" })

  lifecycle {
    # The operator keeps the dates current; Terraform only creates the record.
    ignore_changes = [value]
  }
}
