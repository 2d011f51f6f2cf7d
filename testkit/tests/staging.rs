//! Staging: what nobody must run, copied out of a closed checkout.

use std::path::Path;

use nslab_testkit::{staging, unique};

/// Two directories of binaries with a program of the same name (an
/// attendee's `ch01-uts` under `cargo workshop check`, and the
/// workspace's own) are staged apart: each copy is its own program,
/// whichever is staged first.
#[test]
fn programs_of_the_same_name_from_two_directories_stay_apart() {
    let closed = std::env::temp_dir().join(unique("nslab-closed"));
    staging::create_dir_with_mode(&closed, 0o700);
    let program = |dir: &str, says: &str| {
        let dir = closed.join(dir);
        std::fs::create_dir(&dir).unwrap();
        let path = dir.join("ch01-uts");
        staging::write_executable(&path, format!("#!/bin/sh\necho {says}\n"));
        path
    };
    let theirs = program("theirs", "attendee");
    let ours = program("ours", "reference");
    let staged_ours = staging::reachable(ours);
    let staged_theirs = staging::reachable(theirs);
    let said = |path: &Path| {
        let out = std::process::Command::new(path).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let result = (said(&staged_theirs), said(&staged_ours));
    std::fs::remove_dir_all(&closed).unwrap();
    assert_ne!(staged_theirs, staged_ours);
    assert!(
        staging::open_to_everyone(&staged_theirs),
        "{staged_theirs:?}"
    );
    assert_eq!(result, ("attendee\n".into(), "reference\n".into()));
}
