//! Dynamic completions as bash runs them: the hook `vline completions bash` prints, sourced,
//! asks the binary for procedure names, a procedure's parameter keys, profiles and run ids.

use crate::support::{assert_code, demo, stdout, Home};

/// What bash offers for the words of a command line (the last one is being completed).
fn complete(h: &Home, words: &[&str]) -> Vec<String> {
    let hook = h.run(&["completions", "bash"]);
    assert_code(&hook, 0);
    let hook_file = h.file("vline.bash", &stdout(&hook));
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        "source '{}'\nCOMP_WORDS=(vline {})\nCOMP_CWORD={}\nCOMP_LINE=\"${{COMP_WORDS[*]}}\"\nCOMP_POINT=${{#COMP_LINE}}\nCOMP_TYPE=9\n_clap_complete_vline vline {} {}\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        hook_file.display(),
        quoted.join(" "),
        words.len(),
        quoted.last().cloned().unwrap_or_default(),
        quoted
            .len()
            .checked_sub(2)
            .map(|i| quoted[i].clone())
            .unwrap_or_else(|| "vline".into()),
    );
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env("VLINE_HOME", h.path())
        .env("XDG_CONFIG_HOME", h.path().join("xdg-config"))
        .output()
        .expect("bash");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| l.trim_end().to_string())
        .collect()
}

#[test]
fn procedures_parameter_keys_profiles_and_run_ids_complete() {
    let h = demo();
    assert_eq!(
        complete(&h, &["run", "onboard-"]),
        ["onboard-account", "onboard-new-user"]
    );
    assert_eq!(complete(&h, &["bulk", "offb"]), ["offboard-number"]);
    // The keys of the procedure on the line, without those already given.
    let offered = complete(
        &h,
        &["run", "onboard-new-user", "phone_number=+13126170100", ""],
    );
    assert_eq!(offered[..2], ["user=", "org="], "{offered:?}");
    assert!(offered.contains(&"--dry-run".to_string()), "{offered:?}");
    assert_eq!(complete(&h, &["run", "onboard-new-user", "u"]), ["user="]);
    // Run ids from the journal.
    assert_code(
        &h.run(&[
            "run",
            "onboard-new-user",
            "phone_number=+13126170100",
            "user=carol@jpmc.example",
            "--yes",
        ]),
        0,
    );
    assert_eq!(complete(&h, &["journal", "show", "r"]), ["r1"]);
    // Profiles from the config.
    h.file(
        "config.toml",
        "[profiles.prod]\nkind = \"real\"\nzoom_account_id = \"a\"\nzoom_client_id = \"c\"\n",
    );
    assert_eq!(complete(&h, &["--profile", "p"]), ["prod"]);
}
