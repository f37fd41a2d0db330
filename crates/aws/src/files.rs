//! [`S3Files`]: the files dropped in the import bucket, read with S3 GetObject (the bucket's
//! SSE-KMS decryption is S3's, given `kms:Decrypt` on the key).

use aws_sdk_s3::Client;
use ichigen_core::pipeline::{DroppedFile, DroppedFiles, FileRead, PortError};

use crate::error::port_error;

/// Reads dropped files from S3.
#[derive(Debug, Clone)]
pub struct S3Files {
    client: Client,
}

impl S3Files {
    /// The reader over `client`.
    pub fn new(client: Client) -> Self {
        S3Files { client }
    }
}

impl DroppedFiles for S3Files {
    async fn read(&self, file: &DroppedFile, max_bytes: u64) -> Result<FileRead, PortError> {
        let request = self.client.get_object().bucket(&file.bucket).key(&file.key);
        // The upload this event is about, not a later one under the same name.
        let request = match &file.etag {
            Some(etag) => request.if_match(format!("\"{}\"", etag.trim_matches('"'))),
            None => request,
        };
        let out = match request.send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return Ok(FileRead::Missing),
            // 412: replaced by a newer upload since, which has an event of its own.
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 412) => return Ok(FileRead::Missing),
            Err(e) => return Err(port_error("s3 GetObject import", e)),
        };
        let size = out.content_length.and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
        if size > max_bytes {
            return Ok(FileRead::TooLarge(size));
        }
        let bytes =
            out.body.collect().await.map_err(|e| PortError::retryable("s3 GetObject import (body)", e))?.into_bytes();
        if bytes.len() as u64 > max_bytes {
            return Ok(FileRead::TooLarge(bytes.len() as u64));
        }
        Ok(FileRead::Bytes(bytes.to_vec()))
    }
}
