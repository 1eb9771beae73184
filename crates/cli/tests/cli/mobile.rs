//! The mobile commands: SIM binding, usage import and throttles by hand.

use crate::support::*;

#[test]
fn mobile_commands_bind_sims_import_usage_and_throttle_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("mpc.db");
    let seeded = mpc(&db, &["demo", "seed", "--today", "2026-11-24"]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let (_, contracts) = demo_contracts(&db, "北海");
    let option = contracts
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["options"].as_array().unwrap())
        .find(|o| o["usage_type"] == "plan_10gb")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sim = "8981100000000000777";
    // The demo's SIM on this option serves it until this one takes over in December.
    let bound = mpc(
        &db,
        &[
            "mobile",
            "bind",
            sim,
            "--option",
            &option,
            "--from",
            "2026-12-01",
        ],
    );
    assert!(bound.status.success(), "{}", stderr(&bound));

    // 1 GB + 5 GB, then 4,000,000,001 bytes ending 12-10 10:15 JST: 10 GB + 1 byte, over the
    // plan_10gb cap (R9.9) from 01:15 UTC until 2027-01-01 00:00 JST (12-31 15:00 UTC).
    let usage = dir.path().join("usage.csv");
    std::fs::write(
        &usage,
        format!(
            "record_id,iccid,start,end,bytes_up,bytes_down\n\
             r1,{sim},2026-12-03T10:00:00+09:00,2026-12-03T10:15:00+09:00,1000000000,5000000000\n\
             r2,{sim},2026-12-10T10:00:00,2026-12-10T10:15:00,0,4000000001\n\
             r3,8981100000000009999,2026-12-10T10:00:00,2026-12-10T10:15:00,0,1\n"
        ),
    )
    .unwrap();
    let imported = mpc(&db, &["mobile", "import", usage.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    assert_eq!(
        stdout(&imported),
        "2 accepted, 0 duplicates, 0 corrected, 1 refused"
    );
    assert_eq!(
        stderr(&imported),
        "line 4: unknown_sim: no SIM 8981100000000009999 is registered"
    );
    let again = mpc(&db, &["mobile", "import", usage.to_str().unwrap()]);
    assert_eq!(
        stdout(&again),
        "0 accepted, 2 duplicates, 0 corrected, 1 refused"
    );
    // A transaction per line: the same outcome, lines still counted in the whole file.
    let one_by_one = mpc(
        &db,
        &[
            "mobile",
            "import",
            usage.to_str().unwrap(),
            "--batch-lines",
            "1",
        ],
    );
    assert_eq!(stdout(&one_by_one), stdout(&again));
    assert_eq!(
        stderr(&one_by_one),
        "line 4: unknown_sim: no SIM 8981100000000009999 is registered"
    );
    let lines = dir.path().join("usage.jsonl");
    std::fs::write(
        &lines,
        format!(
            "{{\"record_id\":\"r4\",\"iccid\":\"{sim}\",\"start\":\"2026-12-20T10:00:00+09:00\",\"end\":\"2026-12-20T10:15:00+09:00\",\"bytes_up\":1,\"bytes_down\":0}}\n\
             not json\n\
             {{\"record_id\":\"r5\",\"iccid\":\"{sim}\",\"start\":\"2026-12-21T10:00:00+09:00\",\"end\":\"2026-12-21T10:15:00+09:00\",\"bytes_up\":1,\"bytes_down\":0}}\n"
        ),
    )
    .unwrap();
    let json_lines = mpc(
        &db,
        &[
            "mobile",
            "import",
            lines.to_str().unwrap(),
            "--batch-lines",
            "2",
        ],
    );
    assert_eq!(
        stdout(&json_lines),
        "2 accepted, 0 duplicates, 0 corrected, 1 refused"
    );
    assert!(
        stderr(&json_lines).starts_with("line 2: invalid: not a usage record"),
        "{}",
        stderr(&json_lines)
    );

    let throttles = |at: &str| stdout(&mpc(&db, &["mobile", "throttles", "--at", at]));
    assert_eq!(throttles("2026-12-10T01:14:59Z"), "");
    assert_eq!(
        throttles("2026-12-10T01:15:00Z"),
        format!("{sim}\t{option}\tautomatic\t2026-12-31T15:00:00Z\tR9.9: over the plan_10gb cap")
    );

    let released = mpc(&db, &["mobile", "release", sim, "--reason", "申告あり"]);
    assert!(released.status.success(), "{}", stderr(&released));
    assert!(stdout(&released).starts_with(&format!("SIM {sim} released until 20")));

    // Bad input: one line naming what is wrong, nothing written.
    for (args, message) in [
        (
            vec![
                "mobile",
                "bind",
                "123",
                "--option",
                &option,
                "--from",
                "2026-11-01",
            ],
            "mpc: error: iccid must be 18 to 22 digits: \"123\"",
        ),
        (
            vec![
                "mobile",
                "bind",
                sim,
                "--option",
                "nope",
                "--from",
                "2026-11-01",
            ],
            "mpc: error: no mobile access option nope",
        ),
        (
            vec!["mobile", "throttle", sim, "--reason", " "],
            "mpc: error: R9.9: a manual throttle or release needs a reason (手動での通信制限・解除には理由が必要です)",
        ),
    ] {
        let o = mpc(&db, &args);
        assert!(!o.status.success());
        assert_eq!(stderr(&o), message);
    }
}
