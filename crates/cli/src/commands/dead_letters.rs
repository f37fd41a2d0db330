//! `ichigen dead-letters list|redrive`: the messages the embedded queues gave up on (a mail job
//! or an order that failed `MAX_ATTEMPTS` runs, or can never pass), and putting them back once
//! the cause is fixed. On AWS the queues' DLQs are SQS queues (docs/DEPLOY.md).

use std::process::ExitCode;

use anyhow::bail;
use clap::Subcommand;
use ichigen_local::{MAIL_QUEUE, ORDERS_QUEUE};

use crate::backend::{Backend, StoreArgs};

/// `ichigen dead-letters` subcommands.
#[derive(Debug, Subcommand)]
pub enum DeadLettersCommand {
    /// List the messages given up on, oldest first: id, queue, tries, when, the order (and mail
    /// kind), and why.
    List {
        /// Only this queue (orders or mail).
        #[arg(long, value_parser = [ORDERS_QUEUE, MAIL_QUEUE])]
        queue: Option<String>,
    },
    /// Put messages back on their queue, tries reset: the ids given, or all of them (of --queue).
    /// The next `ichigen demo` or `ichigen mail drain` takes them up.
    Redrive {
        /// Only this queue (orders or mail).
        #[arg(long, value_parser = [ORDERS_QUEUE, MAIL_QUEUE])]
        queue: Option<String>,
        /// Dead letter ids (from `list`); none: every one.
        ids: Vec<i64>,
    },
}

/// Runs a `dead-letters` subcommand.
pub fn run(store_args: &StoreArgs, command: &DeadLettersCommand) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let backend = runtime.block_on(store_args.open_existing())?;
    let Backend::Local(local) = backend else {
        bail!(
            "on AWS the dead letters are the SQS DLQs (ichigen-orders-dlq, ichigen-mail-dlq): list and redrive them \
             with the SQS console or `aws sqs start-message-move-task` (docs/DEPLOY.md)"
        );
    };
    match command {
        DeadLettersCommand::List { queue } => {
            let letters = local.store.dead_letters(queue.as_deref())?;
            if letters.is_empty() {
                println!("デッドレターはありません (no dead letters)");
                return Ok(ExitCode::SUCCESS);
            }
            for d in &letters {
                println!("{:>5}  {:<6}  {}回  {}  {}  {}", d.id, d.queue, d.attempts, d.failed_at, d.about, d.reason);
            }
            println!(
                "{} 件。原因を直してから `ichigen dead-letters redrive [ID...]` でキューに戻せます ({} dead letter(s))",
                letters.len(),
                letters.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        DeadLettersCommand::Redrive { queue, ids } => {
            let moved = local.store.redrive(queue.as_deref(), ids)?;
            println!(
                "{moved} 件をキューに戻しました。次の `ichigen demo` か `ichigen mail drain` で処理します \
                 ({moved} message(s) back on their queue)"
            );
            if !ids.is_empty() && moved < ids.len() {
                eprintln!(
                    "ichigen dead-letters redrive: {} of the ids given are not dead letters{}",
                    ids.len() - moved,
                    queue.as_deref().map(|q| format!(" of queue {q}")).unwrap_or_default()
                );
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
