//! Starting a real `outdial run` from a test and waiting until it listens.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long a server may take to say where it listens.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// `outdial run CONFIG` on a free loopback port with its own data
/// directory, whatever the environment says, standard output piped for
/// [`wait_until_listening`]. The caller adds environment and standard error.
pub fn run_command(config: &Path, data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_outdial"));
    command
        .arg("run")
        .arg(config)
        .args(["--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env_remove("OUTDIAL_BIND")
        .env_remove("OUTDIAL_DATA_DIR")
        .stdout(Stdio::piped());
    command
}

/// Reads the server's standard output on a thread of its own until it
/// prints `listening on URL`; answers the URL and the lines that follow.
pub fn wait_until_listening(child: &mut Child) -> (String, mpsc::Receiver<String>) {
    let stdout = child.stdout.take().expect("stdout is piped");
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    loop {
        let line = lines
            .recv_timeout(START_TIMEOUT)
            .expect("the server announces its address");
        if let Some(url) = line
            .split("listening on ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
        {
            return (url.to_string(), lines);
        }
    }
}
