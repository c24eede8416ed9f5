//! Which clock a contact lives by: their own IANA zone when known, else one
//! inferred from the phone number, else the campaign's default.
//!
//! Inference is deliberately conservative. A wrong zone means calling
//! someone at the wrong hour, so a number is only mapped when its country
//! code (or, in countries spanning several zones, its area code) puts
//! nearly everyone behind it (roughly 95% or more) on one clock; anything
//! less certain yields `None` and the campaign default applies.

use chrono_tz::Tz;

use crate::model::TimeZonePolicy;

/// The zone to call a contact in.
pub fn resolve_time_zone(
    explicit: Option<&str>,
    phone: &str,
    policy: TimeZonePolicy,
    default: &str,
) -> Tz {
    let fallback = || parse_zone(default).unwrap_or(Tz::UTC);
    match policy {
        TimeZonePolicy::Campaign => fallback(),
        TimeZonePolicy::Contact => explicit
            .and_then(parse_zone)
            .or_else(|| infer_from_phone(phone))
            .unwrap_or_else(fallback),
    }
}

fn parse_zone(name: &str) -> Option<Tz> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    name.parse::<Tz>().ok()
}

/// The zone most people behind an E.164 number live in, when that is clear.
///
/// Accepts `+` followed by digits, with spaces, dashes, dots and brackets
/// ignored. Numbers without the leading `+` are not guessed at: a national
/// number read as international lands in the wrong country.
pub fn infer_from_phone(phone: &str) -> Option<Tz> {
    let rest = phone.trim().strip_prefix('+')?;
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return None,
        }
    }
    if !(7..=15).contains(&digits.len()) {
        return None;
    }
    let d = digits.as_str();
    // Country codes are prefix-free, so the first match is the only one.
    match &d[..1] {
        "1" => return nanp(&d[1..]),
        "7" => return russia_or_kazakhstan(&d[1..]),
        _ => {}
    }
    let (code, national) = d.split_at(2);
    match code {
        "34" => return Some(spain(national)),
        "52" => return mexico(national),
        "55" => return brazil(national),
        "56" => return Some(chile(national)),
        "61" => return australia(national),
        "62" => return indonesia(national),
        _ => {}
    }
    if let Some(zone) = single_zone_country(code) {
        return Some(zone);
    }
    let (code, national) = d.split_at(3);
    if code == "351" {
        return Some(portugal(national));
    }
    single_zone_country(code)
}

/// Countries (by calling code) that keep one civil time throughout, or
/// nearly so.
fn single_zone_country(code: &str) -> Option<Tz> {
    use chrono_tz::{Africa, America, Asia, Atlantic, Europe, Indian, Pacific};
    let zone = match code {
        // Europe.
        "30" => Europe::Athens,
        "31" => Europe::Amsterdam,
        "32" => Europe::Brussels,
        "33" => Europe::Paris,
        "36" => Europe::Budapest,
        "39" => Europe::Rome,
        "40" => Europe::Bucharest,
        "41" => Europe::Zurich,
        "43" => Europe::Vienna,
        "44" => Europe::London,
        "45" => Europe::Copenhagen,
        "46" => Europe::Stockholm,
        "47" => Europe::Oslo,
        "48" => Europe::Warsaw,
        "49" => Europe::Berlin,
        "90" => Europe::Istanbul,
        "350" => Europe::Gibraltar,
        "352" => Europe::Luxembourg,
        "353" => Europe::Dublin,
        "354" => Atlantic::Reykjavik,
        "355" => Europe::Tirane,
        "356" => Europe::Malta,
        "357" => Asia::Nicosia,
        "358" => Europe::Helsinki,
        "359" => Europe::Sofia,
        "370" => Europe::Vilnius,
        "371" => Europe::Riga,
        "372" => Europe::Tallinn,
        "373" => Europe::Chisinau,
        "374" => Asia::Yerevan,
        "375" => Europe::Minsk,
        "376" => Europe::Andorra,
        "377" => Europe::Monaco,
        "380" => Europe::Kyiv,
        "381" => Europe::Belgrade,
        "382" => Europe::Podgorica,
        "385" => Europe::Zagreb,
        "386" => Europe::Ljubljana,
        "387" => Europe::Sarajevo,
        "389" => Europe::Skopje,
        "420" => Europe::Prague,
        "421" => Europe::Bratislava,
        "423" => Europe::Vaduz,
        "994" => Asia::Baku,
        "995" => Asia::Tbilisi,
        // Latin America and the Caribbean outside the NANP.
        "51" => America::Lima,
        "53" => America::Havana,
        "54" => America::Argentina::Buenos_Aires,
        "57" => America::Bogota,
        "58" => America::Caracas,
        "502" => America::Guatemala,
        "503" => America::El_Salvador,
        "504" => America::Tegucigalpa,
        "505" => America::Managua,
        "506" => America::Costa_Rica,
        "507" => America::Panama,
        "509" => America::PortauPrince,
        "591" => America::La_Paz,
        "592" => America::Guyana,
        "593" => America::Guayaquil,
        "595" => America::Asuncion,
        "597" => America::Paramaribo,
        "598" => America::Montevideo,
        // Asia and the Middle East.
        "60" => Asia::Kuala_Lumpur,
        "63" => Asia::Manila,
        "65" => Asia::Singapore,
        "66" => Asia::Bangkok,
        "81" => Asia::Tokyo,
        "82" => Asia::Seoul,
        "84" => Asia::Ho_Chi_Minh,
        "86" => Asia::Shanghai,
        "91" => Asia::Kolkata,
        "92" => Asia::Karachi,
        "93" => Asia::Kabul,
        "94" => Asia::Colombo,
        "95" => Asia::Yangon,
        "98" => Asia::Tehran,
        "852" => Asia::Hong_Kong,
        "853" => Asia::Macau,
        "855" => Asia::Phnom_Penh,
        "856" => Asia::Vientiane,
        "880" => Asia::Dhaka,
        "886" => Asia::Taipei,
        "961" => Asia::Beirut,
        "962" => Asia::Amman,
        "964" => Asia::Baghdad,
        "965" => Asia::Kuwait,
        "966" => Asia::Riyadh,
        "968" => Asia::Muscat,
        "971" => Asia::Dubai,
        "972" => Asia::Jerusalem,
        "973" => Asia::Bahrain,
        "974" => Asia::Qatar,
        "977" => Asia::Kathmandu,
        "992" => Asia::Dushanbe,
        "993" => Asia::Ashgabat,
        "996" => Asia::Bishkek,
        "998" => Asia::Tashkent,
        // Africa.
        "20" => Africa::Cairo,
        "27" => Africa::Johannesburg,
        "211" => Africa::Juba,
        "212" => Africa::Casablanca,
        "213" => Africa::Algiers,
        "216" => Africa::Tunis,
        "218" => Africa::Tripoli,
        "221" => Africa::Dakar,
        "223" => Africa::Bamako,
        "225" => Africa::Abidjan,
        "226" => Africa::Ouagadougou,
        "227" => Africa::Niamey,
        "228" => Africa::Lome,
        "229" => Africa::PortoNovo,
        "230" => Indian::Mauritius,
        "233" => Africa::Accra,
        "234" => Africa::Lagos,
        "237" => Africa::Douala,
        "241" => Africa::Libreville,
        "242" => Africa::Brazzaville,
        "244" => Africa::Luanda,
        "249" => Africa::Khartoum,
        "250" => Africa::Kigali,
        "251" => Africa::Addis_Ababa,
        "252" => Africa::Mogadishu,
        "253" => Africa::Djibouti,
        "254" => Africa::Nairobi,
        "255" => Africa::Dar_es_Salaam,
        "256" => Africa::Kampala,
        "258" => Africa::Maputo,
        "260" => Africa::Lusaka,
        "261" => Indian::Antananarivo,
        "263" => Africa::Harare,
        "264" => Africa::Windhoek,
        "267" => Africa::Gaborone,
        // Oceania.
        "64" => Pacific::Auckland,
        "675" => Pacific::Port_Moresby,
        "676" => Pacific::Tongatapu,
        "679" => Pacific::Fiji,
        "685" => Pacific::Apia,
        _ => return None,
    };
    Some(zone)
}

/// Spain: the Canary Islands (fixed lines 822, 828, 922, 928) are an hour
/// behind the mainland; everything else, mobiles included, is peninsular.
fn spain(national: &str) -> Tz {
    match national.get(..3) {
        Some("822" | "828" | "922" | "928") => chrono_tz::Atlantic::Canary,
        _ => chrono_tz::Europe::Madrid,
    }
}

/// Portugal: the Azores (fixed lines 292, 295, 296) are an hour behind.
fn portugal(national: &str) -> Tz {
    match national.get(..3) {
        Some("292" | "295" | "296") => chrono_tz::Atlantic::Azores,
        _ => chrono_tz::Europe::Lisbon,
    }
}

/// Chile: Magallanes (area code 61) keeps summer time all year.
fn chile(national: &str) -> Tz {
    match national.get(..2) {
        Some("61") => chrono_tz::America::Punta_Arenas,
        _ => chrono_tz::America::Santiago,
    }
}

/// Australia by the first digit of the national number: 2 is NSW and the
/// ACT, 3 Victoria and Tasmania, 7 Queensland (no daylight saving). 8
/// spans SA, NT and WA, of which only 86 and 89 are Western Australia;
/// 4 and 5 are mobile and carry no place.
fn australia(national: &str) -> Option<Tz> {
    use chrono_tz::Australia;
    match national.get(..1)? {
        "2" => Some(Australia::Sydney),
        "3" => Some(Australia::Melbourne),
        "7" => Some(Australia::Brisbane),
        "8" => match national.get(..2)? {
            "86" | "89" => Some(Australia::Perth),
            _ => None,
        },
        _ => None,
    }
}

/// Brazil by two-digit DDD area code. Western Amazonas (97) mixes Amazon
/// and Acre time and stays unmapped.
fn brazil(national: &str) -> Option<Tz> {
    use chrono_tz::America;
    let ddd: u8 = national.get(..2)?.parse().ok()?;
    let zone = match ddd {
        11..=19
        | 21
        | 22
        | 24
        | 27
        | 28
        | 31..=35
        | 37
        | 38
        | 41..=46
        | 47..=49
        | 51
        | 53..=55
        | 61
        | 62
        | 64 => America::Sao_Paulo,
        63 => America::Araguaina,
        71 | 73 | 74 | 75 | 77 => America::Bahia,
        79 | 82 => America::Maceio,
        81 | 87 => America::Recife,
        83 | 84 | 85 | 86 | 88 | 89 | 98 | 99 => America::Fortaleza,
        91 | 94 | 96 => America::Belem,
        93 => America::Santarem,
        65 | 66 => America::Cuiaba,
        67 => America::Campo_Grande,
        68 => America::Rio_Branco,
        69 => America::Porto_Velho,
        92 => America::Manaus,
        95 => America::Boa_Vista,
        _ => return None,
    };
    Some(zone)
}

/// Mexico by area code (two digits for the three largest cities, three
/// elsewhere). The legacy mobile "1" after +52 is dropped first. The
/// north-west (6xx) and north-east (8xx) mix zones and daylight-saving
/// rules, so only the codes listed there are mapped; the rest of the
/// country keeps central time without daylight saving.
fn mexico(national: &str) -> Option<Tz> {
    use chrono_tz::America;
    let national = match national.strip_prefix('1') {
        Some(rest) if national.len() == 11 => rest,
        _ => national,
    };
    match national.get(..2)? {
        "55" | "56" | "33" => return Some(America::Mexico_City),
        "81" => return Some(America::Monterrey),
        _ => {}
    }
    let zone = match national.get(..3)? {
        // Baja California follows US Pacific time.
        "646" | "653" | "661" | "664" | "665" | "686" => America::Tijuana,
        // Baja California Sur, Sinaloa and Nayarit: UTC-7, no DST.
        "311" | "319" | "323" | "324" | "325" | "327" | "612" | "613" | "615" | "624" | "667"
        | "668" | "669" | "672" | "673" | "687" | "694" | "696" | "697" => America::Mazatlan,
        // Sonora: UTC-7, no DST.
        "622" | "623" | "631" | "632" | "633" | "634" | "637" | "638" | "641" | "642" | "643"
        | "644" | "645" | "647" | "662" => America::Hermosillo,
        // Chihuahua: Ciudad Juárez follows US daylight saving, the rest of
        // the state keeps central time.
        "656" => America::Ciudad_Juarez,
        "614" | "625" | "627" | "628" | "629" | "635" | "639" | "648" | "649" => America::Chihuahua,
        // Durango.
        "618" | "671" | "674" | "675" | "676" | "677" => America::Mexico_City,
        // Border cities of Coahuila and Tamaulipas follow US daylight saving.
        "867" | "868" | "877" | "878" | "899" => America::Matamoros,
        // Inland Coahuila, Nuevo León and Tamaulipas.
        "831" | "833" | "834" | "844" | "861" | "862" | "866" | "871" | "872" => America::Monterrey,
        // Quintana Roo: UTC-5.
        "983" | "984" | "987" | "998" => America::Cancun,
        // Yucatán and Campeche.
        "969" | "981" | "982" | "985" | "986" | "988" | "996" | "999" => America::Merida,
        // Codes not placed with confidence.
        "389" | "997" => return None,
        code => match &code[..1] {
            "2" | "3" | "4" | "5" | "7" | "9" => America::Mexico_City,
            _ => return None,
        },
    };
    Some(zone)
}

/// Russia by geographic (ABC) area code, and Kazakhstan, which shares +7
/// and has kept one time (UTC+5) since 2024. Russian mobile numbers (9xx)
/// are not tied to a region and stay unmapped, as does Yakutia (411),
/// which spans three zones.
fn russia_or_kazakhstan(national: &str) -> Option<Tz> {
    use chrono_tz::{Asia, Europe};
    if matches!(national.get(..1)?, "6" | "7") {
        return Some(Asia::Almaty);
    }
    let zone = match national.get(..3)? {
        "401" => Europe::Kaliningrad,
        "471" | "472" | "473" | "474" | "475" | "481" | "482" | "483" | "484" | "485" | "486"
        | "487" | "491" | "492" | "493" | "494" | "495" | "496" | "498" | "499" | "811" | "812"
        | "813" | "814" | "815" | "816" | "817" | "818" | "820" | "821" | "831" | "833" | "834"
        | "835" | "836" | "841" | "843" | "847" | "855" | "861" | "862" | "863" | "865" | "866"
        | "867" | "871" | "872" | "873" | "877" | "878" | "879" => Europe::Moscow,
        "842" => Europe::Ulyanovsk,
        "844" => Europe::Volgograd,
        "845" => Europe::Saratov,
        "846" | "848" => Europe::Samara,
        "851" => Europe::Astrakhan,
        "341" => Europe::Samara,
        "342" | "343" | "345" | "346" | "347" | "349" | "351" | "352" | "353" => {
            Asia::Yekaterinburg
        }
        "381" => Asia::Omsk,
        "382" => Asia::Tomsk,
        "383" => Asia::Novosibirsk,
        "384" => Asia::Novokuznetsk,
        "385" | "388" => Asia::Barnaul,
        "390" | "391" | "394" => Asia::Krasnoyarsk,
        "395" => Asia::Irkutsk,
        "301" => Asia::Irkutsk,
        "302" => Asia::Chita,
        "416" => Asia::Yakutsk,
        "421" | "423" | "426" => Asia::Vladivostok,
        "413" => Asia::Magadan,
        "424" => Asia::Sakhalin,
        "415" => Asia::Kamchatka,
        "427" => Asia::Anadyr,
        _ => return None,
    };
    Some(zone)
}

/// Indonesia by area code: western (WIB), central (WITA) and eastern (WIT)
/// Indonesian time. Mobile numbers (8xx) and the Kalimantan codes that mix
/// WIB and WITA (51x to 53x) stay unmapped.
fn indonesia(national: &str) -> Option<Tz> {
    use chrono_tz::Asia;
    let first = national.get(..1)?;
    let two = national.get(..2)?;
    let zone = match (first, two) {
        ("2" | "6" | "7", _) => Asia::Jakarta,
        (_, "31" | "32" | "33" | "34" | "35" | "56") => Asia::Jakarta,
        (_, "36" | "37" | "38" | "54" | "55") | ("4", _) => Asia::Makassar,
        ("9", _) => Asia::Jayapura,
        _ => return None,
    };
    Some(zone)
}

/// The North American Numbering Plan by area code: US and Canadian zones,
/// US territories and the Caribbean members. Area codes that straddle a
/// zone line (Florida's panhandle, Indiana's south-west, western Kentucky,
/// the Dakotas, western Nebraska, Idaho, northern Arizona's Navajo Nation,
/// Michigan's Upper Peninsula, north-western Ontario, BC's interior, the
/// Canadian territories) stay unmapped.
fn nanp(national: &str) -> Option<Tz> {
    use chrono_tz::{America, Atlantic, Pacific};
    if national.len() != 10 {
        return None;
    }
    let area: u16 = national.get(..3)?.parse().ok()?;
    let zone = match area {
        // US Eastern.
        202 | 771 // DC
        | 203 | 475 | 860 | 959 // CT
        | 302 // DE
        | 239 | 305 | 321 | 324 | 352 | 386 | 407 | 561 | 645 | 656 | 689 | 727 | 754 | 772
        | 786 | 813 | 863 | 904 | 941 | 954 // FL, outside the panhandle
        | 229 | 404 | 470 | 478 | 678 | 706 | 762 | 770 | 912 | 943 // GA
        | 207 // ME
        | 227 | 240 | 301 | 410 | 443 | 667 // MD
        | 339 | 351 | 413 | 508 | 617 | 774 | 781 | 857 | 978 // MA
        | 603 // NH
        | 201 | 551 | 609 | 640 | 732 | 848 | 856 | 862 | 908 | 973 // NJ
        | 212 | 315 | 329 | 332 | 347 | 363 | 516 | 518 | 585 | 607 | 624 | 631 | 646 | 680
        | 716 | 718 | 838 | 845 | 914 | 917 | 929 | 934 // NY
        | 252 | 336 | 472 | 704 | 743 | 828 | 910 | 919 | 980 | 984 // NC
        | 216 | 220 | 234 | 283 | 326 | 330 | 380 | 419 | 436 | 440 | 513 | 567 | 614 | 740
        | 937 // OH
        | 215 | 223 | 267 | 272 | 412 | 445 | 484 | 570 | 582 | 610 | 717 | 724 | 814 | 835
        | 878 // PA
        | 401 // RI
        | 803 | 821 | 839 | 843 | 854 | 864 // SC
        | 423 | 865 // TN east
        | 802 // VT
        | 276 | 434 | 540 | 571 | 686 | 703 | 757 | 804 | 826 | 948 // VA
        | 304 | 681 // WV
        => America::New_York,
        231 | 248 | 269 | 313 | 517 | 586 | 616 | 679 | 734 | 810 | 947 | 989 => {
            America::Detroit
        }
        260 | 317 | 463 | 574 | 765 => America::Indiana::Indianapolis,
        502 | 606 | 859 => America::Kentucky::Louisville,
        // US Central.
        205 | 251 | 256 | 334 | 659 | 938 // AL
        | 327 | 479 | 501 | 870 // AR
        | 217 | 224 | 309 | 312 | 331 | 447 | 464 | 618 | 630 | 708 | 730 | 773 | 779 | 815
        | 847 | 861 | 872 // IL
        | 219 // IN north-west
        | 319 | 515 | 563 | 641 | 712 // IA
        | 316 | 620 | 785 | 913 // KS
        | 225 | 318 | 337 | 504 | 985 // LA
        | 218 | 320 | 507 | 612 | 651 | 763 | 924 | 952 // MN
        | 228 | 601 | 662 | 769 // MS
        | 314 | 417 | 557 | 573 | 636 | 660 | 816 | 975 // MO
        | 402 | 531 // NE east
        | 405 | 539 | 572 | 580 | 918 // OK
        | 615 | 629 | 731 | 901 // TN middle and west
        | 210 | 214 | 254 | 281 | 325 | 346 | 361 | 409 | 430 | 432 | 469 | 512 | 682 | 713
        | 726 | 737 | 806 | 817 | 830 | 832 | 903 | 936 | 940 | 945 | 956 | 972 | 979 // TX
        | 262 | 274 | 353 | 414 | 534 | 608 | 715 | 920 // WI
        => America::Chicago,
        // US Mountain.
        303 | 719 | 720 | 970 | 983 // CO
        | 406 // MT
        | 505 | 575 // NM
        | 915 // TX, El Paso
        | 385 | 435 | 801 // UT
        | 307 // WY
        => America::Denver,
        480 | 520 | 602 | 623 => America::Phoenix,
        // US Pacific.
        209 | 213 | 279 | 310 | 323 | 341 | 350 | 369 | 408 | 415 | 424 | 442 | 510 | 530
        | 559 | 562 | 619 | 626 | 628 | 650 | 657 | 661 | 669 | 707 | 714 | 738 | 747 | 760
        | 805 | 818 | 820 | 831 | 837 | 840 | 858 | 909 | 916 | 925 | 949 | 951 // CA
        | 702 | 725 | 775 // NV
        | 458 | 503 | 541 | 971 // OR
        | 206 | 253 | 360 | 425 | 509 | 564 // WA
        => America::Los_Angeles,
        907 => America::Anchorage,
        808 => Pacific::Honolulu,
        // Canada.
        226 | 249 | 263 | 289 | 343 | 354 | 365 | 367 | 382 | 416 | 418 | 437 | 438 | 450
        | 468 | 514 | 519 | 548 | 579 | 581 | 613 | 647 | 683 | 705 | 742 | 753 | 819 | 873
        | 905 | 942 => America::Toronto,
        204 | 431 | 584 => America::Winnipeg,
        306 | 474 | 639 => America::Regina,
        368 | 403 | 587 | 780 | 825 => America::Edmonton,
        236 | 604 | 672 | 778 => America::Vancouver,
        782 | 902 => America::Halifax,
        428 | 506 => America::Moncton,
        709 | 879 => America::St_Johns,
        // US territories.
        787 | 939 => America::Puerto_Rico,
        340 => America::St_Thomas,
        671 => Pacific::Guam,
        670 => Pacific::Saipan,
        684 => Pacific::Pago_Pago,
        // Caribbean and Atlantic members of the plan.
        242 => America::Nassau,
        246 => America::Barbados,
        264 => America::Anguilla,
        268 => America::Antigua,
        284 => America::Tortola,
        345 => America::Cayman,
        441 => Atlantic::Bermuda,
        473 => America::Grenada,
        649 => America::Grand_Turk,
        658 | 876 => America::Jamaica,
        664 => America::Montserrat,
        721 => America::Lower_Princes,
        758 => America::St_Lucia,
        767 => America::Dominica,
        784 => America::St_Vincent,
        809 | 829 | 849 => America::Santo_Domingo,
        868 => America::Port_of_Spain,
        869 => America::St_Kitts,
        _ => return None,
    };
    Some(zone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, Australia, Europe};

    #[test]
    fn us_numbers_map_to_their_area_codes_zone() {
        assert_eq!(infer_from_phone("+12125550100"), Some(America::New_York));
        assert_eq!(infer_from_phone("+13125550100"), Some(America::Chicago));
        assert_eq!(infer_from_phone("+13035550100"), Some(America::Denver));
        assert_eq!(infer_from_phone("+16025550100"), Some(America::Phoenix));
        assert_eq!(infer_from_phone("+14155550100"), Some(America::Los_Angeles));
        assert_eq!(infer_from_phone("+19075550100"), Some(America::Anchorage));
        assert_eq!(
            infer_from_phone("+18085550100"),
            Some(chrono_tz::Pacific::Honolulu)
        );
        assert_eq!(infer_from_phone("+19155550100"), Some(America::Denver));
    }

    #[test]
    fn canadian_numbers_map_to_their_provinces_zone() {
        assert_eq!(infer_from_phone("+14165550100"), Some(America::Toronto));
        assert_eq!(infer_from_phone("+16045550100"), Some(America::Vancouver));
        assert_eq!(infer_from_phone("+13065550100"), Some(America::Regina));
        assert_eq!(infer_from_phone("+19025550100"), Some(America::Halifax));
        assert_eq!(infer_from_phone("+17095550100"), Some(America::St_Johns));
    }

    #[test]
    fn area_codes_that_straddle_a_zone_line_are_not_guessed() {
        for phone in [
            "+18505550100", // Florida panhandle
            "+18125550100", // south-west Indiana
            "+12705550100", // western Kentucky
            "+16055550100", // South Dakota
            "+12085550100", // Idaho
            "+19285550100", // northern Arizona
            "+19065550100", // Michigan's Upper Peninsula
            "+18675550100", // Canadian territories
        ] {
            assert_eq!(infer_from_phone(phone), None, "{phone}");
        }
    }

    #[test]
    fn formatting_characters_are_ignored_but_a_missing_plus_is_not_guessed() {
        assert_eq!(
            infer_from_phone("+1 (212) 555-0100"),
            Some(America::New_York)
        );
        assert_eq!(infer_from_phone("12125550100"), None);
        assert_eq!(infer_from_phone("+1212555x0100"), None);
        assert_eq!(infer_from_phone("+1"), None);
        assert_eq!(infer_from_phone(""), None);
    }

    #[test]
    fn single_zone_countries_map_to_their_capital_zone() {
        assert_eq!(infer_from_phone("+442079460000"), Some(Europe::London));
        assert_eq!(infer_from_phone("+4930123456"), Some(Europe::Berlin));
        assert_eq!(infer_from_phone("+33142685300"), Some(Europe::Paris));
        assert_eq!(infer_from_phone("+919876543210"), Some(Asia::Kolkata));
        assert_eq!(infer_from_phone("+81312345678"), Some(Asia::Tokyo));
        assert_eq!(
            infer_from_phone("+2348031234567"),
            Some(chrono_tz::Africa::Lagos)
        );
        assert_eq!(infer_from_phone("+573001234567"), Some(America::Bogota));
        assert_eq!(
            infer_from_phone("+6421123456"),
            Some(chrono_tz::Pacific::Auckland)
        );
        assert_eq!(infer_from_phone("+35312345678"), Some(Europe::Dublin));
    }

    #[test]
    fn the_canary_islands_and_the_azores_are_told_apart_from_the_mainland() {
        assert_eq!(
            infer_from_phone("+34928123456"),
            Some(chrono_tz::Atlantic::Canary)
        );
        assert_eq!(infer_from_phone("+34912345678"), Some(Europe::Madrid));
        assert_eq!(
            infer_from_phone("+351296123456"),
            Some(chrono_tz::Atlantic::Azores)
        );
        assert_eq!(infer_from_phone("+351212345678"), Some(Europe::Lisbon));
    }

    #[test]
    fn australian_numbers_map_by_leading_digit_and_mobiles_are_not_guessed() {
        assert_eq!(infer_from_phone("+61291234567"), Some(Australia::Sydney));
        assert_eq!(infer_from_phone("+61391234567"), Some(Australia::Melbourne));
        assert_eq!(infer_from_phone("+61731234567"), Some(Australia::Brisbane));
        assert_eq!(infer_from_phone("+61892345678"), Some(Australia::Perth));
        assert_eq!(infer_from_phone("+61881234567"), None);
        assert_eq!(infer_from_phone("+61412345678"), None);
    }

    #[test]
    fn other_multi_zone_countries_map_known_regions_only() {
        assert_eq!(infer_from_phone("+5511912345678"), Some(America::Sao_Paulo));
        assert_eq!(infer_from_phone("+5592912345678"), Some(America::Manaus));
        assert_eq!(infer_from_phone("+5597912345678"), None);
        assert_eq!(
            infer_from_phone("+525512345678"),
            Some(America::Mexico_City)
        );
        assert_eq!(
            infer_from_phone("+5215512345678"),
            Some(America::Mexico_City)
        );
        assert_eq!(infer_from_phone("+526641234567"), Some(America::Tijuana));
        assert_eq!(infer_from_phone("+529981234567"), Some(America::Cancun));
        assert_eq!(infer_from_phone("+74951234567"), Some(Europe::Moscow));
        assert_eq!(infer_from_phone("+73832123456"), Some(Asia::Novosibirsk));
        assert_eq!(infer_from_phone("+79161234567"), None);
        assert_eq!(infer_from_phone("+77011234567"), Some(Asia::Almaty));
        assert_eq!(infer_from_phone("+62215551234"), Some(Asia::Jakarta));
        assert_eq!(infer_from_phone("+62361234567"), Some(Asia::Makassar));
        assert_eq!(infer_from_phone("+62967123456"), Some(Asia::Jayapura));
        assert_eq!(infer_from_phone("+628123456789"), None);
    }

    #[test]
    fn the_contacts_own_zone_wins_over_the_number() {
        let tz = resolve_time_zone(
            Some("Europe/Berlin"),
            "+12125550100",
            TimeZonePolicy::Contact,
            "America/Chicago",
        );
        assert_eq!(tz, Europe::Berlin);
    }

    #[test]
    fn an_invalid_own_zone_falls_back_to_the_number() {
        let tz = resolve_time_zone(
            Some("Mars/Olympus_Mons"),
            "+12125550100",
            TimeZonePolicy::Contact,
            "America/Chicago",
        );
        assert_eq!(tz, America::New_York);
    }

    #[test]
    fn an_unmappable_number_falls_back_to_the_campaign_default_then_utc() {
        let tz = resolve_time_zone(None, "+61412345678", TimeZonePolicy::Contact, "Asia/Tokyo");
        assert_eq!(tz, Asia::Tokyo);
        let tz = resolve_time_zone(Some(""), "+61412345678", TimeZonePolicy::Contact, "bogus");
        assert_eq!(tz, Tz::UTC);
    }

    #[test]
    fn the_campaign_policy_always_uses_the_default() {
        let tz = resolve_time_zone(
            Some("Europe/Berlin"),
            "+12125550100",
            TimeZonePolicy::Campaign,
            "America/Chicago",
        );
        assert_eq!(tz, America::Chicago);
        let tz = resolve_time_zone(None, "+12125550100", TimeZonePolicy::Campaign, "nope");
        assert_eq!(tz, Tz::UTC);
    }

    #[test]
    fn pacific_and_eastern_contacts_in_one_country_get_different_zones() {
        let east = resolve_time_zone(None, "+16175550100", TimeZonePolicy::Contact, "UTC");
        let west = resolve_time_zone(None, "+12065550100", TimeZonePolicy::Contact, "UTC");
        assert_eq!(east, America::New_York);
        assert_eq!(west, America::Los_Angeles);
    }
}
