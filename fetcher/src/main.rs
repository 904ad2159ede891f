//! kiln-fetch, the on-host installer. Its commands arrive with their own issue; until
//! then it says so plainly and exits with the usage code, so nothing mistakes it for a
//! working installer.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--version" || a == "-V") {
        println!("kiln-fetch {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    eprintln!(
        "error: kiln-fetch has no commands yet in this build\nhint: install bundles from the store by hand until kiln-fetch lands (see docs/store.md for the layout)"
    );
    std::process::exit(2);
}
