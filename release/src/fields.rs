//! Records, manifests, WORKSPACE.toml and BUILD.toml sections are read in one spelling
//! only: named fields, as a JSON object or a TOML table. serde's derive would also read
//! a struct from a list of its values in declaration order (`["solr", 42, …]`), a second
//! format nobody writes, whose meaning would change whenever a field is added or moved.
//! Use these with `#[serde(deserialize_with = "…")]` on fields that hold a struct, and
//! [`Object`] at the top of a JSON document.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

/// A `T` that was written with named fields; a list is refused.
#[derive(Debug)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Fields<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("named fields (a JSON object or a TOML table)")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Object<T>, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Object)
            }
        }
        d.deserialize_map(Fields(PhantomData))
    }
}

pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    Object::deserialize(d).map(|o| o.0)
}

pub fn optional_object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Option::<Object<T>>::deserialize(d).map(|o| o.map(|o| o.0))
}

pub fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Vec::<Object<T>>::deserialize(d).map(|v| v.into_iter().map(|o| o.0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Pair {
        a: u32,
        #[serde(default, deserialize_with = "optional_object")]
        b: Option<One>,
        #[serde(default, deserialize_with = "objects")]
        c: Vec<One>,
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct One {
        a: u32,
    }

    #[test]
    fn named_fields_only() {
        let ok: Object<Pair> =
            serde_json::from_str(r#"{"a": 1, "b": {"a": 2}, "c": [{"a": 3}]}"#).unwrap();
        assert_eq!(ok.0.b.unwrap().a, 2);
        assert_eq!(ok.0.c[0].a, 3);
        for bad in [r#"[1]"#, r#"{"a": 1, "b": [2]}"#, r#"{"a": 1, "c": [[3]]}"#] {
            let e = serde_json::from_str::<Object<Pair>>(bad)
                .unwrap_err()
                .to_string();
            assert!(e.contains("expected named fields"), "{bad}: {e}");
        }
        let e = serde_json::from_str::<Object<Pair>>(r#"{"a": 1, "z": 0}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `z`"), "{e}");
    }
}
