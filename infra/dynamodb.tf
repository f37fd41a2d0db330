# The single table of docs/adr/0001-dynamodb-single-table.md, exactly as crates/aws/src/table.rs
# (create_table) makes it: string keys pk/sk, GSIs by_status (ALL), by_bundle (KEYS_ONLY), and the
# console's order list by_time and by_tab (INCLUDE the list columns), on-demand, TTL on expires_at.

resource "aws_dynamodb_table" "main" {
  #checkov:skip=CKV_AWS_119:DynamoDB always encrypts at rest; by default with an AWS owned key (no cost, no KMS requests). A customer managed key is the opt-in variable customer_managed_key.
  name                        = local.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = true

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  attribute {
    name = "gsi1pk"
    type = "S"
  }
  attribute {
    name = "gsi1sk"
    type = "S"
  }
  attribute {
    name = "gsi2pk"
    type = "S"
  }
  attribute {
    name = "gsi2sk"
    type = "S"
  }
  attribute {
    name = "gsi3pk"
    type = "S"
  }

  global_secondary_index {
    name            = "by_status"
    hash_key        = "gsi1pk"
    range_key       = "gsi1sk"
    projection_type = "ALL"
  }

  global_secondary_index {
    name            = "by_bundle"
    hash_key        = "gsi2pk"
    range_key       = "gsi2sk"
    projection_type = "KEYS_ONLY"
  }

  # The console's order list, newest first per shop (all tabs) and per tab: only the columns the
  # list filters on are projected; the page's records are read by key (BatchGetItem).
  global_secondary_index {
    name               = "by_time"
    hash_key           = "pk"
    range_key          = "gsi1sk"
    projection_type    = "INCLUDE"
    non_key_attributes = ["list_tab", "list_marketplace", "list_payment", "list_delivery", "list_prefectures", "list_skus", "list_findings", "list_search"]
  }

  global_secondary_index {
    name               = "by_tab"
    hash_key           = "gsi3pk"
    range_key          = "gsi1sk"
    projection_type    = "INCLUDE"
    non_key_attributes = ["list_tab", "list_marketplace", "list_payment", "list_delivery", "list_prefectures", "list_skus", "list_findings", "list_search"]
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  # enabled = false is DynamoDB's default encryption at rest with an AWS owned key (free; the
  # table is always encrypted); true with the opt-in customer managed key.
  server_side_encryption {
    enabled     = var.customer_managed_key
    kms_key_arn = local.kms_key_arn
  }
}

# Each shop's settings item (sk SETTINGS), as ShopSettings is stored by serde_dynamo: the
# processor refuses orders of a shop without one, and the notifier takes sender and staff
# addresses from it. Terraform creates the item once, with the shop's identity, staff, rules and
# signature; after that the item is the shop's: `ichigen shop` sets its mail templates, contact
# block and payment mail in it, and an apply must not put the item back over them (the provider
# writes a whole item, PutItem, never single attributes). So later changes to a shop in tfvars
# are not applied to an existing item: see infra/README.md ("Changing a shop").
resource "aws_dynamodb_table_item" "shop_settings" {
  for_each = var.shops

  table_name = aws_dynamodb_table.main.name
  hash_key   = aws_dynamodb_table.main.hash_key
  range_key  = aws_dynamodb_table.main.range_key
  item = jsonencode({
    pk         = { S = "SHOP#${each.key}" }
    sk         = { S = "SETTINGS" }
    shop_id    = { S = each.key }
    shop_name  = { S = each.value.shop_name }
    mail_from  = { S = each.value.mail_from }
    staff_to   = { L = [for address in each.value.staff_to : { S = address }] }
    rules_toml = { S = each.value.rules }
    signature  = { S = each.value.signature }
    reply_to   = { S = coalesce(each.value.reply_to, each.value.mail_from) }
  })

  lifecycle {
    ignore_changes = [item]
  }
}
