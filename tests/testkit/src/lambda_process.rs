//! A Lambda binary run as a child process against the [`RuntimeApi`] emulator and moto, with the
//! environment Lambda would give it, for process-level tests and benches.
//!
//! ```no_run
//! # async fn example() {
//! use ichigen_testkit::{lambda_process::LambdaCommand, moto, runtime_api::RuntimeApi};
//! let endpoint = moto::endpoint();
//! let account = moto::fresh_account();
//! let key = moto::access_key(&endpoint, &account).await;
//! let api = RuntimeApi::start().await;
//! let mut process = LambdaCommand::new("target/debug/processor", "ichigen-processor")
//!     .runtime_api(&api)
//!     .aws(&endpoint, &key)
//!     .env("TABLE_NAME", "orders")
//!     .spawn();
//! process.wait_until_polling(&api, std::time::Duration::from_secs(30)).await.unwrap();
//! # }
//! ```
//!
//! The child gets a cleared environment plus what Lambda sets for a function, so nothing of the host's
//! (`AWS_PROFILE`, `RUST_LOG`, `~/.aws/config`) changes what it does. It is killed when the
//! [`LambdaProcess`] is dropped, whether the test passed or not.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::moto::{AccessKey, REGION};
use crate::runtime_api::RuntimeApi;

/// How often a wait looks at the child's state.
const CHECK_EVERY: Duration = Duration::from_millis(5);

/// How to start a Lambda binary: its program and environment.
#[derive(Debug)]
pub struct LambdaCommand {
    command: Command,
}

impl LambdaCommand {
    /// The binary at `program` as the function `function_name`: an empty environment plus Lambda's own
    /// variables (`AWS_LAMBDA_FUNCTION_NAME`, `…_MEMORY_SIZE` 128, `…_VERSION` `$LATEST`, log group and
    /// stream, `AWS_LAMBDA_LOG_FORMAT=JSON`, `TZ=:UTC`, `LANG`). Add [`runtime_api`](Self::runtime_api),
    /// [`aws`](Self::aws) and the function's own settings with [`env`](Self::env).
    pub fn new(program: impl AsRef<OsStr>, function_name: &str) -> Self {
        let mut command = Command::new(program);
        command
            .env_clear()
            .env("AWS_LAMBDA_FUNCTION_NAME", function_name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function_name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/01/01/[$LATEST]0123456789abcdef")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_EXECUTION_ENV", "AWS_Lambda_rapid")
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("TZ", ":UTC")
            .env("LANG", "en_US.UTF-8")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Self { command }
    }

    /// Points the runtime client at `api` (`AWS_LAMBDA_RUNTIME_API`).
    pub fn runtime_api(mut self, api: &RuntimeApi) -> Self {
        self.command.env("AWS_LAMBDA_RUNTIME_API", api.address());
        self
    }

    /// Points the AWS SDK at moto's `endpoint` (`AWS_ENDPOINT_URL`), in ap-northeast-1, with `key`: the child
    /// then acts in the moto account the key was made in (see [`crate::moto::access_key`]).
    pub fn aws(mut self, endpoint: &str, key: &AccessKey) -> Self {
        self.command
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_REGION", REGION)
            .env("AWS_DEFAULT_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", &key.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &key.secret_access_key);
        self
    }

    /// Adds command-line arguments (Lambda passes none; tests that run a test binary as the function do).
    pub fn args<I: IntoIterator<Item = S>, S: AsRef<OsStr>>(mut self, args: I) -> Self {
        self.command.args(args);
        self
    }

    /// Sets one more variable (the function's settings), or overrides one set before.
    pub fn env(mut self, name: &str, value: impl AsRef<OsStr>) -> Self {
        self.command.env(name, value);
        self
    }

    /// Removes a variable set before (to test what the binary does without it).
    pub fn env_remove(mut self, name: &str) -> Self {
        self.command.env_remove(name);
        self
    }

    /// Starts the process; its stdout and stderr are collected (see [`LambdaProcess::output`]).
    ///
    /// # Panics
    /// When the program cannot be started (the message names it).
    pub fn spawn(mut self) -> LambdaProcess {
        let program = self.command.get_program().to_string_lossy().into_owned();
        let spawned_at = Instant::now();
        let mut child =
            self.command.spawn().unwrap_or_else(|err| panic!("cannot start the Lambda binary {program}: {err}"));
        let output = Arc::new(Mutex::new(String::new()));
        let mut readers = Vec::with_capacity(2);
        if let Some(stdout) = child.stdout.take() {
            readers.push(collect(stdout, output.clone()));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(collect(stderr, output.clone()));
        }
        LambdaProcess { program, child, spawned_at, output, readers, exited: None }
    }
}

/// Appends each line read from `stream` to `output`, on a thread of its own so that the child never blocks on a
/// full pipe.
fn collect(stream: impl Read + Send + 'static, output: Arc<Mutex<String>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stream);
        let mut line = Vec::new();
        // Ends at EOF (the child exited or was killed) or on a read error, which only a dead pipe gives.
        while lines.read_until(b'\n', &mut line).is_ok_and(|read| read > 0) {
            output.lock().unwrap_or_else(PoisonError::into_inner).push_str(&String::from_utf8_lossy(&line));
            line.clear();
        }
    })
}

/// A running Lambda binary; killed when dropped.
#[derive(Debug)]
pub struct LambdaProcess {
    program: String,
    child: Child,
    spawned_at: Instant,
    output: Arc<Mutex<String>>,
    readers: Vec<JoinHandle<()>>,
    exited: Option<ExitStatus>,
}

impl LambdaProcess {
    /// The child's process id (e.g. to read `/proc/<pid>/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The instant just before the process was spawned: the start of its cold start.
    pub fn spawned_at(&self) -> Instant {
        self.spawned_at
    }

    /// Everything the process wrote to stdout and stderr so far, line by line as it came.
    pub fn output(&self) -> String {
        self.output.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// How the process ended, or `None` while it runs.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            self.exited = self.child.try_wait().ok().flatten();
        }
        self.exited
    }

    /// Waits until the process makes its first `/next` call to `api`, i.e. its init is over; returns when that
    /// call came.
    ///
    /// # Errors
    /// When the process exits first or `timeout` passes: a message with its exit status and output.
    pub async fn wait_until_polling(&mut self, api: &RuntimeApi, timeout: Duration) -> Result<Instant, String> {
        let started = Instant::now();
        loop {
            // Wakes at once on the poll; the short period only bounds how late an exit is noticed.
            if let Ok(at) = tokio::time::timeout(CHECK_EVERY, api.first_poll()).await {
                return Ok(at);
            }
            if let Some(status) = self.exit_status() {
                self.wait_for_output().await;
                return Err(format!(
                    "{} exited ({status}) before polling; its output:\n{}",
                    self.program,
                    self.output()
                ));
            }
            if started.elapsed() > timeout {
                return Err(format!(
                    "{} did not poll the Runtime API within {timeout:?}; its output:\n{}",
                    self.program,
                    self.output()
                ));
            }
        }
    }

    /// Waits up to `timeout` for the process to exit and for its output to be read to the end.
    ///
    /// # Errors
    /// When it still runs after `timeout`: a message with its output so far.
    pub async fn wait_for_exit(&mut self, timeout: Duration) -> Result<ExitStatus, String> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.exit_status() {
                self.wait_for_output().await;
                return Ok(status);
            }
            if started.elapsed() > timeout {
                return Err(format!("{} still runs after {timeout:?}; its output:\n{}", self.program, self.output()));
            }
            tokio::time::sleep(CHECK_EVERY).await;
        }
    }

    /// After exit: until the readers have seen the end of both pipes, so [`output`](Self::output) is complete.
    async fn wait_for_output(&self) {
        // Both pipes close when the process exits; a grandchild holding them open would stop this wait early.
        let started = Instant::now();
        while !self.readers.iter().all(JoinHandle::is_finished) && started.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(CHECK_EVERY).await;
        }
    }

    /// The process's peak resident set size (`VmHWM` of `/proc/<pid>/status`) in KiB, while it runs (Linux).
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.status_kib("VmHWM")
    }

    /// The process's current resident set size (`VmRSS`) in KiB, while it runs (Linux).
    pub fn rss_kib(&self) -> Option<u64> {
        self.status_kib("VmRSS")
    }

    /// CPU time the process's live threads have used so far (Linux: the first field of each
    /// `/proc/<pid>/task/<tid>/schedstat`, in nanoseconds: finer than the 10 ms ticks of `/proc/<pid>/stat`;
    /// threads that already ended are not counted). Unlike wall time, it hardly changes with what else the
    /// machine runs. `None` once the process is gone.
    pub fn cpu_time(&self) -> Option<Duration> {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.pid())).ok()?;
        let mut nanos: u64 = 0;
        for task in tasks.flatten() {
            // A thread may end between the listing and the read: it is skipped, as ended threads are.
            let Ok(schedstat) = std::fs::read_to_string(task.path().join("schedstat")) else { continue };
            nanos += schedstat.split_whitespace().next().and_then(|ns| ns.parse::<u64>().ok()).unwrap_or(0);
        }
        Some(Duration::from_nanos(nanos))
    }

    fn status_kib(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))?;
        line.trim().trim_end_matches("kB").trim().parse().ok()
    }
}

impl Drop for LambdaProcess {
    fn drop(&mut self) {
        // Killing an exited (already reaped) process fails harmlessly; `wait` reaps it so no zombie is left.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
