//! The state of every geographic US area code (NPA), from the North
//! American Numbering Plan's assignments in service or announced as of
//! 2025, overlays included.
//!
//! A state is named by its ISO 3166-2 code without the country, so "FL"
//! is "US-FL"; the District of Columbia and the territories that share the
//! plan (Puerto Rico, the US Virgin Islands, Guam, the Northern Mariana
//! Islands, American Samoa) are here too, since US federal rules reach
//! them. Toll-free codes (800, 833, 844, 855, 866, 877, 888) and the other
//! non-geographic ones (500s, 600, 700, 900, ...) are deliberately absent:
//! they belong to no state. An area code missing here (a new overlay, say)
//! is read as the US without a state; the `area_codes` config key adds it.

/// Area codes by state, each list in ascending order.
pub(crate) const US_AREA_CODES: &[(&str, &[u16])] = &[
    ("AL", &[205, 251, 256, 334, 659, 938]),
    ("AK", &[907]),
    ("AZ", &[480, 520, 602, 623, 928]),
    ("AR", &[327, 479, 501, 870]),
    (
        "CA",
        &[
            209, 213, 279, 310, 323, 341, 350, 369, 408, 415, 424, 442, 510, 530, 559, 562, 619,
            626, 628, 650, 657, 661, 669, 707, 714, 738, 747, 760, 805, 818, 820, 831, 837, 840,
            858, 909, 916, 925, 949, 951,
        ],
    ),
    ("CO", &[303, 719, 720, 970, 983]),
    ("CT", &[203, 475, 860, 959]),
    ("DE", &[302]),
    ("DC", &[202, 771]),
    (
        "FL",
        &[
            239, 305, 321, 324, 352, 386, 407, 448, 561, 645, 656, 689, 727, 728, 754, 772, 786,
            813, 850, 863, 904, 941, 954,
        ],
    ),
    ("GA", &[229, 404, 470, 478, 678, 706, 762, 770, 912, 943]),
    ("HI", &[808]),
    ("ID", &[208, 986]),
    (
        "IL",
        &[
            217, 224, 309, 312, 331, 447, 464, 618, 630, 708, 730, 773, 779, 815, 847, 861, 872,
        ],
    ),
    ("IN", &[219, 260, 317, 463, 574, 765, 812, 930]),
    ("IA", &[319, 515, 563, 641, 712]),
    ("KS", &[316, 620, 785, 913]),
    ("KY", &[270, 364, 502, 606, 859]),
    ("LA", &[225, 318, 337, 504, 985]),
    ("ME", &[207]),
    ("MD", &[227, 240, 301, 410, 443, 667]),
    ("MA", &[339, 351, 413, 508, 617, 774, 781, 857, 978]),
    (
        "MI",
        &[
            231, 248, 269, 313, 517, 586, 616, 679, 734, 810, 906, 947, 989,
        ],
    ),
    ("MN", &[218, 320, 507, 612, 651, 763, 924, 952]),
    ("MS", &[228, 601, 662, 769]),
    ("MO", &[314, 417, 557, 573, 636, 660, 816, 975]),
    ("MT", &[406]),
    ("NE", &[308, 402, 531]),
    ("NV", &[702, 725, 775]),
    ("NH", &[603]),
    ("NJ", &[201, 551, 609, 640, 732, 848, 856, 862, 908, 973]),
    ("NM", &[505, 575]),
    (
        "NY",
        &[
            212, 315, 329, 332, 347, 363, 516, 518, 585, 607, 624, 631, 646, 680, 716, 718, 838,
            845, 914, 917, 929, 934,
        ],
    ),
    ("NC", &[252, 336, 472, 704, 743, 828, 910, 919, 980, 984]),
    ("ND", &[701]),
    (
        "OH",
        &[
            216, 220, 234, 283, 326, 330, 380, 419, 436, 440, 513, 567, 614, 740, 937,
        ],
    ),
    ("OK", &[405, 539, 572, 580, 918]),
    ("OR", &[458, 503, 541, 971]),
    (
        "PA",
        &[
            215, 223, 267, 272, 412, 445, 484, 570, 582, 610, 717, 724, 814, 835, 878,
        ],
    ),
    ("RI", &[401]),
    ("SC", &[803, 821, 839, 843, 854, 864]),
    ("SD", &[605]),
    ("TN", &[423, 615, 629, 731, 865, 901, 931]),
    (
        "TX",
        &[
            210, 214, 254, 281, 325, 346, 361, 409, 430, 432, 469, 512, 682, 713, 726, 737, 806,
            817, 830, 832, 903, 915, 936, 940, 945, 956, 972, 979,
        ],
    ),
    ("UT", &[385, 435, 801]),
    ("VT", &[802]),
    ("VA", &[276, 434, 540, 571, 686, 703, 757, 804, 826, 948]),
    ("WA", &[206, 253, 360, 425, 509, 564]),
    ("WV", &[304, 681]),
    ("WI", &[262, 274, 353, 414, 534, 608, 715, 920]),
    ("WY", &[307]),
    // Territories.
    ("PR", &[787, 939]),
    ("VI", &[340]),
    ("GU", &[671]),
    ("MP", &[670]),
    ("AS", &[684]),
];

/// The state of US area code `npa`, e.g. "FL" for 305.
pub(crate) fn state_of(npa: u16) -> Option<&'static str> {
    US_AREA_CODES
        .iter()
        .find(|(_, codes)| codes.binary_search(&npa).is_ok())
        .map(|(state, _)| *state)
}

/// True when `state` is a state, DC or a territory of the table.
pub(crate) fn is_state(state: &str) -> bool {
    US_AREA_CODES.iter().any(|(known, _)| *known == state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_dc_and_the_territories_have_area_codes() {
        assert_eq!(US_AREA_CODES.len(), 50 + 1 + 5);
        for (state, codes) in US_AREA_CODES {
            assert!(!codes.is_empty(), "{state}");
            assert_eq!(state.len(), 2, "{state}");
        }
    }

    #[test]
    fn each_list_is_ascending_and_no_code_belongs_to_two_states() {
        let mut seen = std::collections::BTreeMap::new();
        for (state, codes) in US_AREA_CODES {
            assert!(codes.windows(2).all(|pair| pair[0] < pair[1]), "{state}");
            for code in *codes {
                assert!((201..=989).contains(code), "{state} {code}");
                assert_ne!(code % 100, 11, "{state} {code}: N11 codes are services");
                if let Some(other) = seen.insert(*code, *state) {
                    panic!("{code} is in both {other} and {state}");
                }
            }
        }
        assert!(seen.len() > 330, "{} geographic codes", seen.len());
    }

    #[test]
    fn area_codes_find_their_state() {
        assert_eq!(state_of(305), Some("FL"));
        assert_eq!(state_of(850), Some("FL"));
        assert_eq!(state_of(212), Some("NY"));
        assert_eq!(state_of(713), Some("TX"));
        assert_eq!(state_of(203), Some("CT"));
        assert_eq!(state_of(206), Some("WA"));
        assert_eq!(state_of(410), Some("MD"));
        assert_eq!(state_of(405), Some("OK"));
        assert_eq!(state_of(202), Some("DC"));
        assert_eq!(state_of(787), Some("PR"));
    }

    #[test]
    fn toll_free_and_non_geographic_codes_have_no_state() {
        for code in [500, 533, 600, 700, 800, 833, 844, 855, 866, 877, 888, 900] {
            assert_eq!(state_of(code), None, "{code}");
        }
    }
}
