//! Accepting connections: each accepted stream carries a kill switch, so a fault can drop the
//! connection without sending a byte (the client sees a dropped connection).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Accepts TCP connections, each wrapped with a kill switch.
pub(super) struct EmulatorListener(pub(super) TcpListener);

impl EmulatorListener {
    pub(super) async fn accept(&mut self) -> KillableStream {
        loop {
            match self.0.accept().await {
                Ok((stream, _)) => {
                    // Answers are one write each; waiting for Nagle only adds latency.
                    let _ = stream.set_nodelay(true);
                    return KillableStream {
                        stream,
                        killed: Arc::new(AtomicBool::new(false)),
                    };
                }
                // Out of file descriptors and the like: wait rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }
}

/// A connection whose writes fail once it is killed, so the server closes it without sending
/// anything more: a dropped connection, as the client sees it.
pub(super) struct KillableStream {
    stream: TcpStream,
    killed: Arc<AtomicBool>,
}

impl KillableStream {
    /// The handlers' side of this connection's kill switch.
    pub(super) fn connection(&self) -> Connection {
        Connection {
            killed: Arc::clone(&self.killed),
        }
    }

    fn check(&self) -> io::Result<()> {
        if self.killed.load(Ordering::Acquire) {
            Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "dropped by a fault",
            ))
        } else {
            Ok(())
        }
    }
}

impl AsyncRead for KillableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for KillableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.check()?;
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// What a handler knows about its connection: the kill switch.
#[derive(Debug, Clone)]
pub(super) struct Connection {
    killed: Arc<AtomicBool>,
}

impl Connection {
    pub(super) fn kill(&self) {
        self.killed.store(true, Ordering::Release);
    }
}
