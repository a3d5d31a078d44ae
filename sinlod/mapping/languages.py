"""ISO 639-1 language codes (``nl``) → EU authority-table codes (``NLD``).

For the ``language-alpha3`` value fix. Generated from ``data/reference/language.ttl`` (its
``skos:hiddenLabel`` codes), so the mapping needs no reference directory to recode a cell;
``tests/test_mapping_fixes.py`` checks that it still agrees with that table.
"""

from __future__ import annotations

OTHER_TO_EU: dict[str, str] = {
    "ALB": "SQI", "ARM": "HYE", "BAQ": "EUS", "BUR": "MYA", "CHI": "ZHO", "CZE": "CES",
    "DUT": "NLD", "FRE": "FRA", "GEO": "KAT", "GER": "DEU", "GRE": "ELL", "ICE": "ISL",
    "MAC": "MKD", "MAO": "MRI", "MAY": "MSA", "PER": "FAS", "RUM": "RON", "SLO": "SLK",
    "TIB": "BOD", "WEL": "CYM", "aa": "AAR", "ab": "ABK", "ae": "AVE", "af": "AFR",
    "ak": "AKA", "am": "AMH", "an": "ARG", "ar": "ARA", "as": "ASM", "av": "AVA",
    "ay": "AYM", "az": "AZE", "ba": "BAK", "be": "BEL", "bg": "BUL", "bi": "BIS",
    "bm": "BAM", "bn": "BEN", "bo": "BOD", "br": "BRE", "bs": "BOS", "ca": "CAT",
    "ce": "CHE", "ch": "CHA", "co": "COS", "cr": "CRE", "cs": "CES", "cu": "CHU",
    "cv": "CHV", "cy": "CYM", "da": "DAN", "de": "DEU", "dv": "DIV", "dz": "DZO",
    "ee": "EWE", "el": "ELL", "en": "ENG", "eo": "EPO", "es": "SPA", "et": "EST",
    "eu": "EUS", "fa": "FAS", "ff": "FUL", "fi": "FIN", "fj": "FIJ", "fo": "FAO",
    "fr": "FRA", "fy": "FRY", "ga": "GLE", "gd": "GLA", "gl": "GLG", "gn": "GRN",
    "gu": "GUJ", "gv": "GLV", "ha": "HAU", "he": "HEB", "hi": "HIN", "ho": "HMO",
    "hr": "HRV", "ht": "HAT", "hu": "HUN", "hy": "HYE", "hz": "HER", "ia": "INA",
    "id": "IND", "ie": "ILE", "ig": "IBO", "ii": "III", "ik": "IPK", "io": "IDO",
    "is": "ISL", "it": "ITA", "iu": "IKU", "ja": "JPN", "jv": "JAV", "ka": "KAT",
    "kg": "KON", "ki": "KIK", "kj": "KUA", "kk": "KAZ", "kl": "KAL", "km": "KHM",
    "kn": "KAN", "ko": "KOR", "kr": "KAU", "ks": "KAS", "ku": "KUR", "kv": "KOM",
    "kw": "COR", "ky": "KIR", "la": "LAT", "lb": "LTZ", "lg": "LUG", "li": "LIM",
    "ln": "LIN", "lo": "LAO", "lt": "LIT", "lu": "LUB", "lv": "LAV", "mg": "MLG",
    "mh": "MAH", "mi": "MRI", "mk": "MKD", "ml": "MAL", "mn": "MON", "mr": "MAR",
    "ms": "MSA", "mt": "MLT", "my": "MYA", "na": "NAU", "nb": "NOB", "nd": "NDE",
    "ne": "NEP", "ng": "NDO", "nl": "NLD", "nn": "NNO", "no": "NOR", "nr": "NBL",
    "nv": "NAV", "ny": "NYA", "oc": "OCI", "oj": "OJI", "om": "ORM", "or": "ORI",
    "os": "OSS", "pa": "PAN", "pi": "PLI", "pl": "POL", "ps": "PUS", "pt": "POR",
    "qu": "QUE", "rm": "ROH", "rn": "RUN", "ro": "RON", "ru": "RUS", "rw": "KIN",
    "sa": "SAN", "sc": "SRD", "sd": "SND", "se": "SME", "sg": "SAG", "sh": "HBS",
    "si": "SIN", "sk": "SLK", "sl": "SLV", "sm": "SMO", "sn": "SNA", "so": "SOM",
    "sq": "SQI", "sr": "SRP", "ss": "SSW", "st": "SOT", "su": "SUN", "sv": "SWE",
    "sw": "SWA", "ta": "TAM", "te": "TEL", "tg": "TGK", "th": "THA", "ti": "TIR",
    "tk": "TUK", "tl": "TGL", "tn": "TSN", "to": "TON", "tr": "TUR", "ts": "TSO",
    "tt": "TAT", "tw": "TWI", "ty": "TAH", "ug": "UIG", "uk": "UKR", "ur": "URD",
    "uz": "UZB", "ve": "VEN", "vi": "VIE", "vo": "VOL", "wa": "WLN", "wo": "WOL",
    "xh": "XHO", "yi": "YID", "yo": "YOR", "za": "ZHA", "zh": "ZHO", "zu": "ZUL",
}  # fmt: skip
