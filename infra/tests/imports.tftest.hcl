# The import bucket (tracking files in): private, encrypted, expiring, and notifying the imports
# queue, which only that bucket may send to and the importer consumes.

mock_provider "aws" {
  source = "./tests/mocks"
}

run "import_bucket_is_private_encrypted_expiring_and_notifies_the_queue" {
  command = plan

  assert {
    condition     = aws_s3_bucket_public_access_block.imports.block_public_acls && aws_s3_bucket_public_access_block.imports.block_public_policy && aws_s3_bucket_public_access_block.imports.ignore_public_acls && aws_s3_bucket_public_access_block.imports.restrict_public_buckets
    error_message = "All public access to the import bucket is blocked."
  }

  assert {
    condition     = one(aws_s3_bucket_ownership_controls.imports.rule).object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs are off (the bucket owner owns every object)."
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.imports.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" && one(aws_s3_bucket_server_side_encryption_configuration.imports.rule).bucket_key_enabled
    error_message = "Files are encrypted with SSE-KMS (S3 Bucket Key on)."
  }

  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.imports.rule).apply_server_side_encryption_by_default[0].kms_master_key_id == null
    error_message = "Without the opt-in, the AWS managed key aws/s3 (no customer managed key)."
  }

  assert {
    condition     = one(aws_s3_bucket_versioning.imports.versioning_configuration).status == "Disabled"
    error_message = "No versioning: an expired file leaves no old version behind."
  }

  assert {
    condition     = one(aws_s3_bucket_lifecycle_configuration.imports.rule).status == "Enabled" && one(one(aws_s3_bucket_lifecycle_configuration.imports.rule).expiration).days == 30
    error_message = "Files expire after var.import_expiry_days (30 by default)."
  }

  assert {
    condition     = one(aws_s3_bucket_notification.imports.queue).events == toset(["s3:ObjectCreated:*"]) && one(aws_s3_bucket_notification.imports.queue).filter_prefix == "imports/"
    error_message = "Every file created under imports/ is notified."
  }

  assert {
    condition     = aws_lambda_event_source_mapping.importer.function_response_types == toset(["ReportBatchItemFailures"]) && module.importer.function_name == "ichigen-prod-importer"
    error_message = "The importer consumes the imports queue, reporting failures per message."
  }

  assert {
    condition     = aws_sqs_queue.imports.visibility_timeout_seconds == 725
    error_message = "The imports queue's visibility timeout is 6 × the importer's timeout plus the batching window."
  }
}

run "import_bucket_applies_with_the_customer_key" {
  command = apply

  variables {
    customer_managed_key = true
    import_expiry_days   = 7
  }

  assert {
    condition     = one(aws_s3_bucket_notification.imports.queue).queue_arn == aws_sqs_queue.imports.arn
    error_message = "The bucket notifies the imports queue."
  }

  assert {
    condition     = jsondecode(aws_sqs_queue.imports.redrive_policy).deadLetterTargetArn == aws_sqs_queue.imports_dlq.arn && jsondecode(aws_sqs_queue.imports.redrive_policy).maxReceiveCount == 5
    error_message = "The imports queue has its DLQ."
  }

  assert {
    condition     = one(aws_s3_bucket_server_side_encryption_configuration.imports.rule).apply_server_side_encryption_by_default[0].kms_master_key_id == aws_kms_key.main[0].arn
    error_message = "Opted in, the files are encrypted with the deployment's key."
  }

  assert {
    condition     = one(one(aws_s3_bucket_lifecycle_configuration.imports.rule).expiration).days == 7
    error_message = "The expiry follows var.import_expiry_days."
  }

  assert {
    condition     = output.import_bucket.bucket == "ichigen-prod-imports-123456789012" && output.import_bucket.folders["my-shop"] == "imports/my-shop/"
    error_message = "The output names the bucket and each shop's folder."
  }
}

run "import_expiry_must_be_whole_days" {
  command = plan

  variables {
    import_expiry_days = 0
  }

  expect_failures = [var.import_expiry_days]
}
