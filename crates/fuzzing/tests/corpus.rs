//! Every fuzz target's body over its seed corpus (`fuzz/corpus/<target>/`) and its regressions
//! (`fuzz/regressions/<target>/`, inputs that once crashed it), on stable: the fuzzing itself
//! needs nightly and time (scripts/fuzz), this runs in the normal suite.

use std::path::{Path, PathBuf};

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| !n.to_string_lossy().starts_with('.')))
        .collect();
    files.sort();
    files
}

#[test]
fn every_target_holds_on_its_seed_corpus_and_regressions() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    for (name, target) in ichigen_fuzzing::TARGETS {
        let seeds = inputs(&fuzz.join("corpus").join(name));
        assert!(seeds.len() >= 3, "{name}: the seed corpus is missing (scripts/fuzz --seed writes it)");
        let regressions = inputs(&fuzz.join("regressions").join(name));
        for path in seeds.iter().chain(&regressions) {
            let data = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name}: {} fails the target (see the panic above)", path.display());
        }
        println!("{name}: {} seeds, {} regressions", seeds.len(), regressions.len());
    }
}

#[test]
fn every_target_has_its_cargo_fuzz_file() {
    let targets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/fuzz_targets");
    for (name, _) in ichigen_fuzzing::TARGETS {
        let file = targets.join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(text.contains(&format!("ichigen_fuzzing::{name}(")), "{} does not run its body", file.display());
    }
}
