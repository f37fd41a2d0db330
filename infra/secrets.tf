# One secret per shop × marketplace, created empty: Terraform never sees the credentials (they
# would be in its state). The operator puts the JSON of docs/MARKETPLACES.md into each one
# (docs/DEPLOY.md); until then that pair's pulls fail with ichigen.PullNeedsOperator.

resource "aws_secretsmanager_secret" "marketplace" {
  #checkov:skip=CKV2_AWS_57:Marketplace credentials are issued by the marketplace (楽天 license keys every 90 days, au PAY API keys, Qoo10 keys yearly, refresh tokens) and are renewed in its back office; no rotation Lambda can do that, so the operator updates the secret value (docs/DEPLOY.md).
  for_each = local.pairs

  name                    = "${local.secret_prefix}${each.value.shop_id}/${each.value.marketplace}"
  description             = "ichigen credentials of shop ${each.value.shop_id} on ${each.value.marketplace} (JSON; see docs/MARKETPLACES.md)"
  kms_key_id              = aws_kms_key.main.arn
  recovery_window_in_days = 7
}
