"""Understated messages in other languages: two worrying things together raise the alarm, one alone does not.

The sentences are written for these tests (not taken from any evaluation set): a disclosure names no harm
("marks again, says she fell", "an older man from a game sends him money"), and an ordinary message shares
one of its words ("hurt his ankle in PE", "scared of the exam", "a wedding in Pakistan in the holidays")."""

from __future__ import annotations

import pytest

from intents.classify import SafeguardingRules
from intents.language import ENGLISH, Languages, languages


@pytest.fixture(scope="module")
def rules() -> SafeguardingRules:
    return SafeguardingRules.load()


def raises_alarm(rules: SafeguardingRules, text: str) -> bool:
    """What the advisor does with a message in another language: its language, then the rules."""
    code = rules.languages.detect(text)
    return code != ENGLISH and rules.risk_in(text)


UNDERSTATED = [
    ("ro", "Nepotul meu vine iar la școală cu vânătăi pe brațe și spune că s-a lovit de ușă"),
    ("lt", "Mano dukra sako, kad vyresnis vyras iš žaidimo siunčia jai dovanų ir nori susitikti"),
    ("tr", "Kızım eve gitmek istemiyor, üvey babası gelince çok korkuyor"),
    ("so", "Wiilkayga waxaa lacag iyo taleefan cusub siiya nin weyn oo uu ciyaarta ka bartay"),
    ("ar", "بنتي بتحكي مع رجل غريب على الانستغرام وبيبعتلها هدايا وقالها لا تقولي لماما"),
    ("ur", "میری بیٹی کے بازو پر پھر سے نشان ہیں اور وہ کہتی ہے کہ گر گئی تھی"),
    ("bn", "আমার ছেলে বলে বাসায় কেউ নেই দুই দিন ধরে, খাবার নেই"),
    ("fa", "دخترم میگه یه مرد بزرگتر تو بازی براش هدیه میفرسته و گفته به کسی نگو"),
    ("sq", "Djali im thotë se disa djem më të mëdhenj e detyrojnë të çojë pako pas shkollës"),
    ("vi", "Con gái tôi nói có một người lạ trên mạng gửi quà và bảo đừng nói với mẹ"),
    ("zh", "我女儿说网上认识的一个男人经常给她寄礼物，还叫她别告诉我们"),
    ("de", "Sie trägt seit Wochen lange Ärmel und versteckt ihre Arme, auch beim Sport"),
    ("it", "Mio figlio dice che vuole sparire e che starebbero tutti meglio senza di lui"),
    ("ta", "என் மகள் வீட்டுக்கு போக விரும்பவில்லை, அப்பாவைப் பார்த்து பயப்படுகிறாள்"),
    ("am", "ልጄ ሁልጊዜ የቆሸሸ ልብስ ለብሶ ይመጣል፣ ምግብ የለም ይላል"),
    ("pl", "Córka mówi, że trener kazał jej nikomu nie mówić o tym, co robią po treningu"),
]

LOOK_ALIKES = [
    "Syn skręcił kostkę na WF-ie, czy może jutro nie ćwiczyć?",
    "Fiica mea are emoții pentru examen, aveți materiale de recapitulare?",
    "Kızım yarınki sınavdan çok korkuyor, ek ders var mı?",
    "Wiilkayga ayaa kubadda cagta ku dhaawacmay, ma ka fasaxnaan karaa jimicsiga?",
    "ابني انجرح في رجله في مباراة كرة القدم، هل يقدر ما يشارك بالرياضة اليوم؟",
    "ہم گرمیوں کی چھٹیوں میں پاکستان شادی پر جا رہے ہیں، کیا بچے دو ہفتے کی چھٹی لے سکتے ہیں؟",
    "আমার মেয়ে স্কুলের নাটকের ছবি ফেসবুকে দিতে পারবে?",
    "آیا می‌تونم برای معلم پسرم آخر سال هدیه بخرم؟",
    "Mein Mann holt die Kinder diese Woche mit dem Auto ab, weil ich im Ausland bin",
    "Tôi có thể đăng ảnh buổi biểu diễn của trường lên Facebook không?",
    "我儿子踢足球时膝盖受伤了，今天可以不上体育课吗？",
    "Mia figlia ha sempre fame dopo nuoto, posso darle una merenda più grande?",
    "Mi hija está muy nerviosa por el examen de mañana y llora un poco, ¿hay clases de repaso?",
    "O meu filho vai ao casamento da tia em Portugal nas férias, pode faltar dois dias?",
    "Les adultes peuvent-ils prendre des photos à la fête de l'école ?",
    "Kann mein älterer Sohn seinen Bruder mit dem Auto abholen?",
    "Babcia kupuje córce prezenty i zawozi ją samochodem do szkoły",
    "Моя дочь боится темноты и плачет ночью, что делать?",
    "ابني وقع في الفسحة وعنده كدمة، ليش ما حدا خبرني؟",
    "میرا بیٹا بریک میں گر گیا اور اسے چوٹ لگی، مجھے کیوں نہیں بتایا گیا؟",
    "Oğlum teneffüste düştü ve morarmış, neden haber verilmedi?",
    "Mój syn zostaje sam w domu po szkole, bo mama pracuje do 18. Czy jest świetlica?",
    "ابني يبقى لوحده في البيت بعد المدرسة لأن أمه تشتغل",
    "Czy to tajemnica, kto jest opiekunem ds. ochrony dzieci w szkole?",
    "Mi hijo siempre vuelve sucio del recreo, ¿juegan en el barro?",
]


@pytest.mark.parametrize("lang, text", UNDERSTATED)
def test_an_understated_disclosure_in_another_language_raises_the_alarm(rules, lang, text):
    assert rules.languages.detect(text).split("-")[0] == lang
    assert raises_alarm(rules, text)


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_an_ordinary_message_sharing_one_worrying_word_stays_quiet(rules, text):
    assert rules.languages.detect(text) != ENGLISH
    assert not raises_alarm(rules, text)


def test_one_concept_alone_never_raises_the_alarm_and_a_listed_pair_does(tmp_path):
    concepts = tmp_path / "concepts.yaml"
    concepts.write_text(
        "version: 1\ncombinations:\n  - [hurt, again]\nlanguages:\n  pl:\n    hurt: [siniak*]\n    again: [znowu]\n    fear: [boi*]\n",
        encoding="utf-8",
    )
    custom = Languages.load(concepts=concepts)
    assert custom.concepts_in("Syn znowu ma siniaki", "pl") == {"hurt", "again"}
    assert custom.harm_in("Syn znowu ma siniaki", "pl") == "pl"
    assert custom.harm_in("Syn ma siniaka po meczu", "pl") is None  # hurt alone
    assert custom.harm_in("Syn się boi i ma siniaka", "pl") is None  # a pair not listed


def test_every_language_has_concept_words_and_every_pair_names_known_concepts():
    langs = languages()
    assert set(langs.languages) <= set(langs._concepts), "a language without concept words"
    named = {name for spec in langs._concepts.values() for name in spec} | {"distress", "young"}
    assert all(pair <= named for pair in langs._pairs)


def test_an_age_in_the_message_counts_as_young_in_any_digits(rules):
    langs = rules.languages
    assert "young" in langs.concepts_in("ও মাত্র ১৪ বছরের", "bn")
    assert "young" in langs.concepts_in("she is 14", "pl")
    assert "young" not in langs.concepts_in("at 3:30 for £15", "pl")
