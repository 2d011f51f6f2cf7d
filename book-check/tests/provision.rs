//! `vm/provision.sh` makes a machine ready for the course: it installs
//! every package of the README's `apt install` line, and the VM recipes
//! (`vm/lima.yaml`, `vm/Vagrantfile`) run it with the variables it
//! reads. What it does on a fresh Debian is `vm/test-provision.sh`'s
//! test, which `.ci/run` runs (it needs root and a few minutes).

use book_check::repo_root;

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The words of the README's `apt install` line, continued after `\`.
fn readme_packages() -> Vec<String> {
    let readme = read("README.md");
    let mut words = Vec::new();
    let lines = readme
        .lines()
        .skip_while(|line| !line.starts_with("apt install "));
    for line in lines {
        words.extend(
            line.split_whitespace()
                .filter(|w| *w != "\\")
                .map(String::from),
        );
        if !line.ends_with('\\') {
            break;
        }
    }
    assert!(words.len() > 2, "the README has no `apt install` line");
    words.split_off(2)
}

/// The packages of provision.sh's list, `packages="..."`, which may
/// go on over several lines.
fn provision_packages() -> Vec<String> {
    let script = read("vm/provision.sh");
    let (_, rest) = script
        .split_once("\npackages=\"")
        .expect("vm/provision.sh has no `packages=\"...\"` list");
    let (list, _) = rest.split_once('"').unwrap();
    list.split_whitespace().map(String::from).collect()
}

#[test]
fn provision_installs_every_package_of_the_readme() {
    let installed = provision_packages();
    for package in readme_packages() {
        assert!(
            installed.contains(&package),
            "vm/provision.sh does not install {package}, which the README's \
             apt line names"
        );
    }
    // What provision.sh itself uses: the clone, the download, sudo.
    for package in ["git", "curl", "ca-certificates", "sudo"] {
        assert!(
            installed.contains(&package.to_string()),
            "vm/provision.sh does not install {package}"
        );
    }
}

#[test]
fn the_vm_recipes_run_provision_with_its_variables() {
    let script = read("vm/provision.sh");
    for recipe in ["vm/lima.yaml", "vm/Vagrantfile"] {
        let text = read(recipe);
        assert!(
            text.contains("/vm/provision.sh"),
            "{recipe} does not run vm/provision.sh"
        );
        for variable in ["NSLAB_USER=", "NSLAB_SOURCE="] {
            assert!(
                text.contains(variable),
                "{recipe} does not set {variable}"
            );
            let name = variable.trim_end_matches('=');
            assert!(
                script.contains(&format!("#   {name} ")),
                "vm/provision.sh does not document {name}"
            );
        }
    }
}

#[test]
fn ci_shellchecks_the_scripts_and_runs_the_provision_test() {
    let ci = read(".ci/run");
    for script in ["vm/provision.sh", "vm/rustup-init-stub.sh"] {
        assert!(
            ci.lines().any(|line| line.starts_with("shellcheck -s sh")
                && line.contains(script)),
            ".ci/run does not shellcheck {script} as POSIX sh"
        );
    }
    assert!(
        ci.lines().any(|line| line.starts_with("shellcheck ")
            && line.contains("vm/test-provision.sh")),
        ".ci/run does not shellcheck vm/test-provision.sh"
    );
    assert!(
        ci.lines()
            .any(|line| line.trim() == "bash vm/test-provision.sh"),
        ".ci/run does not run vm/test-provision.sh"
    );
}
