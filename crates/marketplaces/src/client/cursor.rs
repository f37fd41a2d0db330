//! A pull's resume point as the opaque text the puller keeps between runs: `<tag>.<json>`. One
//! codec for every marketplace; each folder keeps only its position type and what makes one valid.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A marketplace client's position in a pull.
pub trait Cursor: Serialize + DeserializeOwned {
    /// Names the client and the format version (`rakuten-3` ...): another's cursor never reads.
    const TAG: &'static str;

    /// Whether a decoded position is one the client could have written.
    fn valid(&self) -> bool {
        true
    }

    /// The text the puller keeps.
    fn encode(&self) -> String {
        // A position is plain numbers and strings: serialising it cannot fail.
        format!("{}.{}", Self::TAG, serde_json::to_string(self).unwrap_or_default())
    }

    /// The position `text` holds; `None` for another client's, an older format's or a broken one.
    fn decode(text: &str) -> Option<Self> {
        let json = text.strip_prefix(Self::TAG)?.strip_prefix('.')?;
        serde_json::from_str::<Self>(json).ok().filter(Self::valid)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct At {
        page: u32,
    }

    impl Cursor for At {
        const TAG: &'static str = "test-1";
        fn valid(&self) -> bool {
            self.page > 0
        }
    }

    #[test]
    fn round_trips_and_refuses_other_tags_and_invalid_positions() {
        let at = At { page: 3 };
        assert_eq!(At::decode(&at.encode()), Some(at));
        for bad in ["", "test-1", "test-1.", "test-1.{}", "test-1.{\"page\":0}", "test-2.{\"page\":3}", "x"] {
            assert_eq!(At::decode(bad), None, "{bad}");
        }
    }
}
