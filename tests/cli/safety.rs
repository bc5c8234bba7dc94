//! The safety promises, tried the way an attacker or a careless user would: production in
//! every spelling, outages offered as recordings, interrupts, cassette names, closed pipes.

use crate::support::Dir;

/// Regression: `--target https://api.freedompay.kz.` (trailing dot) and
/// `https://api.paybox.money.` were resolved and sent to. Every source of a target and every
/// mode that sends is refused before any request.
#[test]
fn production_guard_refuses_every_spelling_in_every_mode() {
    let dir = Dir::with_shipped();
    let before = dir.files("recordings");
    let spellings = [
        "https://api.freedompay.kz.",
        "https://api.paybox.money.",
        "https://API.FREEDOMPAY.KG.:443/",
        "https://user@api.freedompay.uz.",
    ];
    for mode in ["live", "record", "once", "drift"] {
        for url in spellings {
            let run = dir
                .fph()
                .env("FREEDOMPAY_MERCHANT_ID", "1")
                .env("FREEDOMPAY_SECRET_KEY", "k")
                .args(["run", "--mode", mode, "--target", url])
                .run();
            assert_eq!(run.code, 2, "{mode} {url}: {}{}", run.stdout, run.stderr);
            assert!(
                run.stderr
                    .contains("refusing to send requests to production"),
                "{mode} {url}: {}",
                run.stderr
            );
        }
    }
    let from_env = dir
        .fph()
        .env("FREEDOMPAY_MERCHANT_ID", "1")
        .env("FREEDOMPAY_SECRET_KEY", "k")
        .env("FPH_TARGET", "https://api.freedompay.kz.")
        .args(["drift", "--accept"])
        .run();
    assert_eq!(from_env.code, 2, "{}", from_env.stderr);
    assert!(from_env.stderr.contains("refusing"), "{}", from_env.stderr);

    dir.write(
        "scenarios/harness.yaml",
        "format: 1\ntargets:\n  shop: { url: \"https://Api.PayBox.Money.\" }\n",
    );
    let named = dir
        .fph()
        .env("FREEDOMPAY_MERCHANT_ID", "1")
        .env("FREEDOMPAY_SECRET_KEY", "k")
        .args(["run", "--mode", "record", "--target", "shop"])
        .run();
    assert_eq!(named.code, 2, "{}", named.stderr);
    assert!(named.stderr.contains("refusing"), "{}", named.stderr);
    assert_eq!(dir.files("recordings"), before, "nothing recorded");

    dir.write(
        "scenarios/harness.yaml",
        "format: 1\ntargets:\n  shop: { url: \"https://api..freedompay.kz\" }\n",
    );
    let unreadable = dir.fph().args(["lint"]).run();
    assert_eq!(unreadable.code, 2, "{}", unreadable.stderr);
    assert!(
        unreadable.stderr.contains("harness.yaml:3:")
            && unreadable.stderr.contains("cannot be normalised"),
        "{}",
        unreadable.stderr
    );
}
