//! `shared/src` is a map: each folder's `mod.rs` opens with a doc line saying what lives
//! there, and dependencies between folders point one way, `auth` → `accounts` → `http`,
//! so a newcomer can read the folders bottom up.

use super::*;

/// The folders of `shared/src` and the folders each must not use.
const LAYERS: &[(&str, &[&str])] = &[
    ("http", &["accounts", "auth"]),
    ("accounts", &["auth"]),
    ("auth", &[]),
];

#[test]
fn every_folder_of_shared_says_what_lives_there() {
    let src = root().join("shared/src");
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_dir() {
            continue;
        }
        let module = std::fs::read_to_string(path.join("mod.rs"))
            .unwrap_or_else(|e| panic!("{}/mod.rs: {e}", path.display()));
        assert!(
            module.starts_with("//! ") && module.lines().next().unwrap().len() > 20,
            "{}/mod.rs must open with a doc line saying what lives there",
            path.display()
        );
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            LAYERS.iter().any(|(layer, _)| *layer == name),
            "shared/src/{name}/ is not in LAYERS: say what it may use"
        );
    }
}

#[test]
fn dependencies_between_shared_folders_point_one_way() {
    for (layer, forbidden) in LAYERS {
        let mut files = Vec::new();
        rust_files(&root().join("shared/src").join(layer), &mut files);
        assert!(!files.is_empty(), "shared/src/{layer} has no sources");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for other in *forbidden {
                let path = format!("crate::{other}");
                assert!(
                    !text.contains(&path),
                    "{} uses {path}: {layer} must not depend on {other}",
                    file.display()
                );
            }
        }
    }
}
