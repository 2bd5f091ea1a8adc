//! Node labels and selectors: read from model files with located diagnostics, and used to
//! select nodes as Chaos Toolkit and AWS FIS name them.

use blastradius::model::{Selector, load_model, parse_model};

#[test]
fn the_shop_selects_its_nodes_by_label() {
    let topology = load_model(std::path::Path::new("models/shop.toml")).expect("shop loads");
    let names = |text: &str| -> Vec<String> {
        let selector = Selector::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let ids = topology.nodes_matching(&selector);
        ids.into_iter().map(|id| topology.node(id).name.clone()).collect()
    };
    assert_eq!(names("app=api"), ["api"]);
    assert_eq!(names("tier in (cache,data)"), ["sessions", "orders-db"]);
    assert_eq!(names("tier!=web,tier notin (external)"), ["sessions", "orders-db"]);
    assert!(names("app=checkout").is_empty());
}

#[test]
fn bad_labels_are_reported_at_their_key_or_value() {
    let text = "\
name = \"m\"
zones = [\"z\"]

[workload.w]
target = \"a\"
rate = 10

[service.a]
zones = [\"z\"]
service_time = { dist = \"constant\", value = \"1ms\" }
labels = { \"bad key\" = \"x\", tier = \"web tier\", n = 3, ok = \"fine\" }
";
    let errors = parse_model(std::path::Path::new("m.toml"), text).expect_err("bad labels");
    let rendered = errors.to_string();
    assert!(rendered.contains("m.toml:11:12"), "{rendered}");
    assert!(rendered.contains("invalid label key `bad key`"), "{rendered}");
    assert!(rendered.contains("m.toml:11:36"), "{rendered}");
    assert!(rendered.contains("invalid value for label `tier`"), "{rendered}");
    assert!(rendered.contains("label `n` must be a string"), "{rendered}");
    assert!(rendered.contains("E0023"), "{rendered}");
}
