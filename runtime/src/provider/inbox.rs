//! A durable inbox of provider events received by webhook. A webhook is
//! answered 2xx only after its events are on disk (written and fsynced by
//! one writer thread that groups concurrent webhooks into one sync), so a
//! provider never has to resend an event outdial acknowledged.
//!
//! The engine drains the inbox every tick and makes what it drained
//! durable in the store before its next drain; each drain therefore
//! acknowledges the previous one. Acknowledged entries are dropped from
//! the file once nothing newer waits. After a crash the unacknowledged
//! entries come back, possibly a second time: the engine ignores events
//! for attempts that are no longer live, so a replay is harmless.

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

use super::{CallEnd, CallEventKind, ProviderEvent};
use crate::model::{CallOutcome, MachineDetection, Millis};

/// One line of the inbox file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
enum Line {
    Event { seq: u64, event: StoredEvent },
    Ack { seq: u64 },
}

/// A [`ProviderEvent`] as it is written down.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct StoredEvent {
    attempt_id: String,
    provider_call_id: String,
    at: Millis,
    kind: StoredKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum StoredKind {
    Ringing,
    Answered,
    Ended {
        outcome: CallOutcome,
        sip_code: Option<u16>,
        talk_ms: u64,
        ring_ms: u64,
        machine_detection: MachineDetection,
        transcript: Option<String>,
        cost_micros: Option<u64>,
        metadata: Vec<(String, String)>,
    },
}

impl From<&ProviderEvent> for StoredEvent {
    fn from(event: &ProviderEvent) -> Self {
        StoredEvent {
            attempt_id: event.attempt_id.clone(),
            provider_call_id: event.provider_call_id.clone(),
            at: event.at,
            kind: match &event.kind {
                CallEventKind::Ringing => StoredKind::Ringing,
                CallEventKind::Answered => StoredKind::Answered,
                CallEventKind::Ended(end) => StoredKind::Ended {
                    outcome: end.outcome,
                    sip_code: end.sip_code,
                    talk_ms: end.talk_ms,
                    ring_ms: end.ring_ms,
                    machine_detection: end.machine_detection,
                    transcript: end.transcript.clone(),
                    cost_micros: end.cost_micros,
                    metadata: end.metadata.clone(),
                },
            },
        }
    }
}

impl From<StoredEvent> for ProviderEvent {
    fn from(event: StoredEvent) -> Self {
        ProviderEvent {
            attempt_id: event.attempt_id,
            provider_call_id: event.provider_call_id,
            at: event.at,
            kind: match event.kind {
                StoredKind::Ringing => CallEventKind::Ringing,
                StoredKind::Answered => CallEventKind::Answered,
                StoredKind::Ended {
                    outcome,
                    sip_code,
                    talk_ms,
                    ring_ms,
                    machine_detection,
                    transcript,
                    cost_micros,
                    metadata,
                } => CallEventKind::Ended(CallEnd {
                    outcome,
                    sip_code,
                    talk_ms,
                    ring_ms,
                    machine_detection,
                    transcript,
                    cost_micros,
                    metadata,
                }),
            },
        }
    }
}

/// Why the inbox could not take or give events.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("provider inbox {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("provider inbox {path}, line {line}: {message}")]
    Corrupt {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("provider inbox {0}: the writer has stopped")]
    Stopped(PathBuf),
}

struct Shared {
    /// Durable events not drained yet, with their sequence numbers.
    pending: VecDeque<(u64, ProviderEvent)>,
    /// The last sequence number handed to the engine.
    drained_up_to: u64,
}

enum Request {
    Append {
        events: Vec<ProviderEvent>,
        done: tokio::sync::oneshot::Sender<Result<(), String>>,
    },
    Ack {
        seq: u64,
    },
}

/// The durable inbox of one provider.
pub struct Inbox {
    path: PathBuf,
    shared: Arc<Mutex<Shared>>,
    writer: Mutex<mpsc::Sender<Request>>,
}

impl Inbox {
    /// Open (or create) the inbox at `path`; entries not acknowledged by a
    /// previous run are pending again.
    pub fn open(path: impl AsRef<Path>) -> Result<Inbox, InboxError> {
        let path = path.as_ref().to_path_buf();
        let io_error = |source| InboxError::Io {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io_error)?;
        }
        let recovered = read(&path)?;
        let next_seq = recovered.next_seq;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_error)?;
        // Drop a torn tail so the next line starts on a line of its own.
        file.set_len(recovered.good_len).map_err(io_error)?;
        let shared = Arc::new(Mutex::new(Shared {
            pending: recovered.pending,
            drained_up_to: recovered.acked,
        }));
        let (sender, receiver) = mpsc::channel();
        let writer_shared = shared.clone();
        let writer_path = path.clone();
        std::thread::Builder::new()
            .name("provider-inbox".to_string())
            .spawn(move || write_loop(file, writer_path, next_seq, receiver, writer_shared))
            .map_err(io_error)?;
        Ok(Inbox {
            path,
            shared,
            writer: Mutex::new(sender),
        })
    }

    /// Make `events` durable; returns once they are fsynced.
    pub async fn append(&self, events: Vec<ProviderEvent>) -> Result<(), InboxError> {
        if events.is_empty() {
            return Ok(());
        }
        let (done, answer) = tokio::sync::oneshot::channel();
        self.sender()
            .send(Request::Append { events, done })
            .map_err(|_| InboxError::Stopped(self.path.clone()))?;
        match answer.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(message)) => Err(InboxError::Io {
                path: self.path.clone(),
                source: io::Error::other(message),
            }),
            Err(_) => Err(InboxError::Stopped(self.path.clone())),
        }
    }

    /// Every durable event not drained yet, in arrival order. Acknowledges
    /// the previous drain: the engine has made it durable by now.
    pub fn drain(&self) -> Vec<ProviderEvent> {
        let mut shared = lock(&self.shared);
        let acked = shared.drained_up_to;
        let events: Vec<(u64, ProviderEvent)> = shared.pending.drain(..).collect();
        if let Some((last, _)) = events.last() {
            shared.drained_up_to = *last;
        }
        drop(shared);
        // An ack that fails to reach the writer only means a replay later.
        let _ = self.sender().send(Request::Ack { seq: acked });
        events.into_iter().map(|(_, event)| event).collect()
    }

    /// Events durable and not drained yet.
    pub fn pending(&self) -> usize {
        lock(&self.shared).pending.len()
    }

    fn sender(&self) -> MutexGuard<'_, mpsc::Sender<Request>> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a previous run left in the inbox file.
struct Recovered {
    /// Events after the last acknowledgement.
    pending: VecDeque<(u64, ProviderEvent)>,
    /// The last acknowledged sequence number.
    acked: u64,
    /// The next sequence number to give out.
    next_seq: u64,
    /// Bytes of whole lines; anything after is a torn write.
    good_len: u64,
}

fn read(path: &Path) -> Result<Recovered, InboxError> {
    let io_error = |source| InboxError::Io {
        path: path.to_path_buf(),
        source,
    };
    let text = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) if err.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(source) => return Err(io_error(source)),
    };
    let mut events = Vec::new();
    let mut acked = 0;
    let mut last_seq = 0;
    let mut good_len = 0;
    let mut start = 0;
    let mut line_number = 0;
    while start < text.len() {
        line_number += 1;
        let end = text[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|at| start + at);
        let line = &text[start..end.unwrap_or(text.len())];
        let parsed = serde_json::from_slice::<Line>(line);
        match (parsed, end) {
            (Ok(Line::Event { seq, event }), Some(_)) => {
                last_seq = last_seq.max(seq);
                events.push((seq, ProviderEvent::from(event)));
            }
            (Ok(Line::Ack { seq }), Some(_)) => acked = acked.max(seq),
            // A torn last line is a write a crash interrupted before its
            // fsync: its webhook was never answered, the provider resends.
            (_, None) => break,
            (Err(err), Some(_)) => {
                return Err(InboxError::Corrupt {
                    path: path.to_path_buf(),
                    line: line_number,
                    message: err.to_string(),
                });
            }
        }
        let end = end.expect("a whole line ends with a newline");
        good_len = end as u64 + 1;
        start = end + 1;
    }
    let pending = events.into_iter().filter(|(seq, _)| *seq > acked).collect();
    Ok(Recovered {
        pending,
        acked,
        next_seq: last_seq.max(acked) + 1,
        good_len,
    })
}

fn write_loop(
    mut file: File,
    path: PathBuf,
    mut next_seq: u64,
    requests: mpsc::Receiver<Request>,
    shared: Arc<Mutex<Shared>>,
) {
    while let Ok(first) = requests.recv() {
        let mut batch = vec![first];
        batch.extend(requests.try_iter());
        let mut text = String::new();
        let mut staged: Vec<(u64, ProviderEvent)> = Vec::new();
        let mut waiting = Vec::new();
        let mut acked = None;
        for request in batch {
            match request {
                Request::Append { events, done } => {
                    for event in events {
                        let line = Line::Event {
                            seq: next_seq,
                            event: StoredEvent::from(&event),
                        };
                        text.push_str(&serde_json::to_string(&line).expect("events serialize"));
                        text.push('\n');
                        staged.push((next_seq, event));
                        next_seq += 1;
                    }
                    waiting.push(done);
                }
                Request::Ack { seq } => acked = Some(acked.unwrap_or(0).max(seq)),
            }
        }
        let written = if text.is_empty() {
            Ok(())
        } else {
            file.write_all(text.as_bytes())
                .and_then(|()| file.sync_data())
        };
        let answer = match &written {
            Ok(()) => {
                lock(&shared).pending.extend(staged);
                Ok(())
            }
            Err(err) => {
                tracing::error!(inbox = %path.display(), error = %err, "provider events could not be made durable");
                Err(err.to_string())
            }
        };
        if let Some(seq) = acked {
            let everything_acked = {
                let shared = lock(&shared);
                shared.pending.is_empty() && seq + 1 >= next_seq
            };
            let result = if everything_acked {
                // Nothing waits: start the file afresh instead of growing it.
                // Appends go to the end, wherever that is.
                file.set_len(0)
            } else if seq > 0 {
                let line = serde_json::to_string(&Line::Ack { seq }).expect("acks serialize");
                file.write_all(format!("{line}\n").as_bytes())
            } else {
                Ok(())
            };
            if let Err(err) = result {
                tracing::warn!(inbox = %path.display(), error = %err, "inbox acknowledgement not written; events may be replayed");
            }
        }
        // Answered last, so whoever waits sees everything of this round
        // on disk, acknowledgements included.
        for done in waiting {
            let _ = done.send(answer.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(attempt: &str) -> ProviderEvent {
        ProviderEvent {
            attempt_id: attempt.to_string(),
            provider_call_id: format!("call-{attempt}"),
            at: 1_000,
            kind: CallEventKind::Ended(CallEnd {
                outcome: CallOutcome::Answered,
                sip_code: Some(200),
                talk_ms: 30_000,
                ring_ms: 0,
                machine_detection: MachineDetection::Human,
                transcript: Some("sounds good".to_string()),
                cost_micros: Some(4_000),
                metadata: vec![(
                    "ended_reason".to_string(),
                    "customer-ended-call".to_string(),
                )],
            }),
        }
    }

    fn ringing(attempt: &str) -> ProviderEvent {
        ProviderEvent {
            attempt_id: attempt.to_string(),
            provider_call_id: format!("call-{attempt}"),
            at: 500,
            kind: CallEventKind::Ringing,
        }
    }

    #[tokio::test]
    async fn appended_events_are_drained_once_in_order() {
        let dir = tempfile::tempdir().expect("dir");
        let inbox = Inbox::open(dir.path().join("inbox.jsonl")).expect("open");
        inbox.append(vec![ringing("a-1-1")]).await.expect("append");
        inbox.append(vec![ended("a-1-1")]).await.expect("append");
        assert_eq!(inbox.drain(), vec![ringing("a-1-1"), ended("a-1-1")]);
        assert!(inbox.drain().is_empty());
    }

    #[tokio::test]
    async fn events_not_acknowledged_survive_a_restart() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("inbox.jsonl");
        {
            let inbox = Inbox::open(&path).expect("open");
            inbox.append(vec![ended("a-1-1")]).await.expect("append");
            // Drained but never acknowledged by a later drain: the engine
            // may not have made it durable.
            assert_eq!(inbox.drain().len(), 1);
            inbox.append(vec![ended("a-2-1")]).await.expect("append");
        }
        let reopened = Inbox::open(&path).expect("reopen");
        assert_eq!(reopened.drain(), vec![ended("a-1-1"), ended("a-2-1")]);
    }

    #[tokio::test]
    async fn acknowledged_events_do_not_come_back() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("inbox.jsonl");
        {
            let inbox = Inbox::open(&path).expect("open");
            inbox.append(vec![ended("a-1-1")]).await.expect("append");
            inbox.append(vec![ended("a-2-1")]).await.expect("append");
            assert_eq!(inbox.drain().len(), 2);
            // The next drain acknowledges the first; wait for the writer
            // by appending behind the ack.
            assert!(inbox.drain().is_empty());
            inbox.append(vec![ringing("a-3-1")]).await.expect("append");
        }
        let reopened = Inbox::open(&path).expect("reopen");
        assert_eq!(reopened.drain(), vec![ringing("a-3-1")]);
    }

    #[test]
    fn a_torn_last_line_is_ignored_and_a_corrupt_one_is_named() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("inbox.jsonl");
        let good = serde_json::to_string(&Line::Event {
            seq: 1,
            event: StoredEvent::from(&ended("a-1-1")),
        })
        .expect("json");
        std::fs::write(&path, format!("{good}\n{{\"t\":\"ev")).expect("write");
        let inbox = Inbox::open(&path).expect("a torn tail is tolerated");
        assert_eq!(inbox.pending(), 1);
        drop(inbox);
        let kept = std::fs::read_to_string(&path).expect("read");
        assert_eq!(kept, format!("{good}\n"), "the torn tail is cut off");
        std::fs::write(&path, format!("garbage\n{good}\n")).expect("write");
        let err = Inbox::open(&path).err().expect("corrupt");
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
