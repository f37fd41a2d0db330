//! Running a sandbox: an axum router on 127.0.0.1, stopped when the handle is dropped.

use std::net::SocketAddr;

use tokio::sync::oneshot;

/// A sandbox listening on 127.0.0.1; dropping it stops the server.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves `router` on 127.0.0.1:`port` (0 = any free port). Only loopback: a sandbox is never
/// reachable from another machine.
pub async fn serve(router: axum::Router, port: u16) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(async move {
        let shutdown = async {
            let _ = rx.await;
        };
        // An accept error ends the sandbox; the test or demo using it then sees connection errors.
        let _ = axum::serve(listener, router).with_graceful_shutdown(shutdown).await;
    });
    Ok(Running { addr, stop: Some(tx), task })
}
