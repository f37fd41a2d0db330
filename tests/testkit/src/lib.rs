//! Test support for ichigen's AWS pipeline, used from tests only.
//!
//! - [`moto`]: moto server as the local AWS. Each test works in its own moto account
//!   ([`moto::fresh_account`] + [`moto::sdk_config`]), so tests run in parallel against one server.
//! - [`runtime_api`]: an emulator of the AWS Lambda Runtime API, for process-level tests of Lambda binaries.
//! - [`smtp`]: the SMTP test server (aiosmtpd with STARTTLS and AUTH) that marketplace relay mail goes to.
//! - [`stock`]: the stock store contract, one body per behaviour for every adapter.
//! - [`lambda_process`]: a Lambda binary run as a child process against both, with Lambda's environment.

pub mod lambda_process;
pub mod moto;
pub mod runtime_api;
pub mod smtp;
pub mod stock;
