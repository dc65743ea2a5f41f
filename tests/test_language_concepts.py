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


# -- Classes of understated disclosure, each stated as a rule in several languages (sentences written for
# these tests). Each class has its look-alikes: the same concept in an ordinary message stays quiet.

CLASSES = {
    "a child missing: gone, not home for nights, the phone off, the police": [
        ("pl", "Mój syn nie wrócił do domu od dwóch nocy, telefon ma wyłączony, czy dzwonić na policję?"),
        ("pt", "A minha filha não voltou para casa desde sexta e o telemóvel está desligado"),
        ("tr", "Oğlum iki gündür eve gelmedi, telefonu kapalı, polise gitmeli miyiz?"),
        ("uk", "Донька не повернулася додому вже два дні, телефон вимкнений"),
        ("ur", "میرا بیٹا دو دن سے گھر نہیں آیا، فون بند ہے، کیا پولیس کو بتائیں؟"),
        ("de", "Meine Tochter ist seit zwei Tagen verschwunden, ihr Handy ist aus"),
    ],
    "an adult's age beside a child: dating, lifts, gifts": [
        ("ro", "Fiica mea de 14 ani iese cu un băiat de 23 de ani care îi cumpără telefoane"),
        ("lt", "Mano dukra draugauja su vaikinu, jam 26 metai, jis ją veža mašina"),
        ("es", "Mi sobrina sale con un chico de 25 años que la recoge en coche del instituto"),
        ("bn-Latn", "amar meye er notun bondhu, boyosh 24, take gari te kore niye jay"),
        ("zh", "我女儿有个二十多岁的男朋友，每天开车来接她，还给她买东西"),
        ("uk", "Доньку забирає на машині якийсь чоловік, якому за тридцять, і дарує їй подарунки"),
    ],
    "not safe at home: thrown out, sleeping outside or at other people's": [
        ("es", "El hijo de mi amiga duerme en la calle a veces porque su padrastro lo echa de casa"),
        ("ru", "Сын соседки часто ночует в подъезде, отчим выгоняет его из дома"),
        ("fr", "Sa mère la met à la porte le soir et elle dort dans l'escalier"),
        ("pa-Latn", "ohda pyo ohnu raat nu ghar ton bahar kadh dinda aa"),
        ("ro", "Colegul fiului meu doarme la noi aproape în fiecare noapte, zice că acasă nu mai poate sta"),
    ],
    "children left alone for days or nights": [
        ("ro", "Vecina pleacă și își lasă copiii singuri toată noaptea"),
        ("ar", "جارنا يترك أولاده وحدهم في البيت من يوم الجمعة"),
        ("lt", "Kaimynų vaikai jau kelias dienas vieni namie, neturi ką valgyti"),
        ("pt", "Os pais não aparecem em casa desde domingo, as crianças estão sozinhas"),
    ],
    "self-harm and suicide, enough on their own": [
        ("pt", "A minha filha anda a cortar-se nos braços"),
        ("fr", "Mon fils a écrit une lettre d'adieu sur son téléphone"),
        ("ar", "ابني كتب على انستغرام أنه سينتحر"),
        ("tr", "Kızım kendini kesiyor, kollarını saklıyor"),
        ("de", "Meine Tochter ritzt sich seit Wochen"),
        ("it", "Mio figlio dice che vuole togliersi la vita"),
    ],
    "words of sexual abuse, enough on their own": [
        ("pt", "Acho que o tio abusa dela quando ficam sozinhos"),
        ("es", "Mi hija dice que el entrenador la manosea en los vestuarios"),
        ("tr", "Komşumuz kızıma cinsel istismar yapmış, ne yapmalıyım"),
        ("ar", "ابن عمي يتحرش بابني الصغير"),
        ("uk", "Вітчим розбещує мою доньку"),
        ("lt", "Manau, kad treneris tvirkina mano sūnų"),
    ],
    "a secret asked by an adult": [
        ("ar", "رجل في الحي يعطي ابني مصاري ويقله لا تخبر أهلك"),
        ("lt", "Treneris rašo sūnui naktimis ir prašo nesakyti tėvams"),
        ("pa-Latn", "ohda chacha kehnda ke eh gall saade vich hi rehni chahidi aa"),
        ("uk", "Тренер каже синові, щоб він мовчав і нікому не казав про їхні зустрічі"),
    ],
    "criminal exploitation: two phones, a 'runner', cash, another town": [
        ("fr", "Mon fils a deux téléphones et beaucoup de cash, il rentre très tard"),
        ("lt", "Sūnus turi du telefonus ir daug pinigų, nesako iš kur"),
        ("pt", "Uns rapazes mais velhos dão dinheiro ao meu filho para levar mochilas para outra cidade"),
        ("pa", "ਮੇਰਾ ਮੁੰਡਾ ਰਾਤ ਨੂੰ ਦੇਰ ਨਾਲ ਆਉਂਦਾ ਹੈ ਤੇ ਉਸ ਕੋਲ ਦੋ ਫ਼ੋਨ ਹਨ"),
        ("ur-Latn", "beta raat ko 'kaam' pe jata hai aur naye joote le aata hai"),
    ],
    "taken out of school by a relative or a man, and silent about it": [
        ("tr", "Dayısı onu sık sık okuldan erken alıyor, sonra hiç konuşmuyor"),
        ("ur", "اس کے ماموں اسے اکثر اسکول سے جلدی لے جاتے ہیں، واپس آ کر وہ کچھ نہیں بتاتی"),
        ("pt", "Um homem vem buscá-la a meio do dia e ela volta sem querer falar"),
    ],
    "a marriage arranged back home": [
        ("ro", "Părinții i-au găsit deja un soț în țară și nu se mai întoarce după vacanță"),
        ("bn", "গরমের ছুটিতে দেশে গেলে ওর বিয়ের কথা হবে, ও খুব ভয় পাচ্ছে"),
        ("ar", "أهلها بدهم يزوجوها بالصيف لما يسافروا وهي عمرها ١٥ سنة"),
        ("fr", "Ses parents veulent l'emmener au bled cet été pour la « préparer »"),
    ],
    "private pictures with a threat or spread around": [
        ("bn", "কেউ আমার মেয়েকে বলছে ওর প্রাইভেট ছবি সবাইকে পাঠাবে যদি টাকা না দেয়"),
        ("so", "Sawir gabadhayda oo aan dhar xirnayn ayaa la faafinayaa"),
        ("pl", "Ktoś grozi synowi, że roześle jego nagie zdjęcia, jeśli nie zapłaci"),
    ],
    "radicalisation: propaganda, told to hate": [
        ("fr", "Un homme montre à mon fils des vidéos de propagande et lui dit de haïr les autres"),
        ("pl", "Syn ogląda z jakimś mężczyzną filmy z propagandą, który uczy go nienawiści do innych"),
    ],
    "a video of pupils beaten or stripped": [
        ("pl", "Krąży nagranie, na którym starsi uczniowie biją i rozbierają chłopca"),
        ("lt", "Mačiau vaizdo įrašą, kuriame jūsų mokinė nufilmuota girta su suaugusiais vyrais"),
    ],
    "a third party's child: a neighbour's, a classmate's": [
        ("pl", "Syn sąsiadów często ma siniaki na rękach i słyszę krzyki i płacz"),
        ("pa", "ਮੇਰੀ ਧੀ ਦੀ ਕਲਾਸ ਦੀ ਇੱਕ ਕੁੜੀ ਨੇ ਲਿਖਿਆ ਕਿ ਉਹ ਆਪਣੀ ਜਾਨ ਲੈ ਲਵੇਗੀ"),
        ("ar", "بنت الجيران بتقعد برا البيت لآخر الليل لأنه ما في حدا بالبيت"),
    ],
}

CLASS_LOOK_ALIKES = {
    "a pet or a lost phone is not a child missing": [
        "Unsere Katze ist seit zwei Tagen verschwunden, der Sohn ist sehr traurig.",
        "Il nostro gatto è sparito da due giorni e mio figlio piange.",
        "У сына пропал телефон два дня назад, может кто-то нашёл?",
    ],
    "a brother or an eldest son of 18+ picking a child up": [
        "O meu filho mais velho, de 21 anos, vai buscar a irmã à escola de carro hoje.",
        "Son grand frère de 20 ans viendra la chercher en voiture ce soir.",
        "Ağabeyi 20 yaşında, bugün onu arabayla okuldan alacak.",
        "أخوها الكبير عمره ٢٠ سنة رح ياخدها بالسيارة اليوم",
        "मेरा बड़ा बेटा 20 साल का है, आज वह छोटे को गाड़ी से स्कूल से ले जाएगा",
    ],
    "a sleepover": [
        "Czy syn może nocować u kolegi w piątek po wycieczce?",
        "¿Puede mi hijo quedarse a dormir en casa de un amigo el sábado?",
        "Может ли мой сын переночевать у друга в субботу?",
        "Kızım cuma akşamı arkadaşında kalabilir mi?",
    ],
    "a cut finger in cooking": [
        "O meu filho cortou-se no dedo na aula de culinária, nada de grave.",
        "Mon fils s'est coupé au doigt en cuisine, rien de grave.",
        "Kızım parmağını kesti, mutfakta, önemli değil.",
    ],
    "a second phone for school, late home from training, shoes from pocket money": [
        "Fiica mea are două telefoane, unul e pentru școală, e permis?",
        "Mi hijo tiene dos móviles, uno es para el colegio, ¿puede traer los dos?",
        "ابني عنده تلفونين واحد للمدرسة، مسموح يجيب الاثنين؟",
        "Syn wraca późno z treningu i kupił sobie nowe buty za kieszonkowe.",
        "Mon fils rentre tard du foot et s'est acheté des baskets avec son argent de poche.",
    ],
    "a grandparent collecting a child early": [
        "La abuela la saca del cole antes los viernes para ir al médico.",
        "Sa grand-mère vient la chercher en milieu de journée vendredi pour le dentiste.",
        "جدتها رح تاخدها من المدرسة بكير يوم الخميس عند الدكتور",
    ],
    "a knock in PE, nothing serious": [
        "Донька вдарилась на перерві, нічого страшного.",
        "Сын ударился на физкультуре, ничего страшного, просто сообщаю.",
    ],
    "hunger in Ramadan": [
        "Ramazan'da oğlum oruç tutuyor, öğlen aç oluyor, sorun olur mu?",
        "بنتي صايمة برمضان وبتجوع بالظهر، هل في مشكلة؟",
        "میرا بیٹا رمضان میں روزہ رکھتا ہے اور اسے بھوک لگتی ہے، کیا وہ لائبریری میں بیٹھ سکتا ہے؟",
    ],
}


@pytest.mark.parametrize(
    "lang, text", [pytest.param(lang, text, id=f"{name[:24]}-{lang}") for name, cases in CLASSES.items() for lang, text in cases]
)
def test_each_class_of_understated_disclosure_raises_the_alarm_in_several_languages(rules, lang, text):
    assert rules.languages.detect(text) == lang
    assert raises_alarm(rules, text)


@pytest.mark.parametrize(
    "text", [pytest.param(text, id=f"{name[:24]}-{i}") for name, cases in CLASS_LOOK_ALIKES.items() for i, text in enumerate(cases)]
)
def test_the_look_alike_of_each_class_stays_quiet(rules, text):
    assert rules.languages.detect(text) != ENGLISH
    assert not raises_alarm(rules, text)


def test_an_adult_age_counts_beside_a_word_for_years_and_not_beside_a_brother(rules):
    langs = rules.languages
    assert "adult" in langs.concepts_in("Un tip de 24 de ani o așteaptă la poartă", "ro")
    assert "adult" not in langs.concepts_in("Fratele ei de 24 de ani o așteaptă la poartă", "ro")
    assert "adult" not in langs.concepts_in("Am 24 de elevi în clasă", "ro")  # a number without years
    assert "adult" in langs.concepts_in("ওর বন্ধুর বয়স ২৩, ওকে টাকা দেয়", "bn")


def test_a_cue_ending_in_equals_is_that_word_only():
    pattern = Languages._pattern(("ударила=",))
    assert pattern.search("мама ударила сына")
    assert not pattern.search("дочь ударилась на физкультуре")


def test_quotes_between_a_phrase_words_count_as_spaces():
    pattern = Languages._pattern(("kaam pe jata",))
    assert pattern.search("raat ko 'kaam' pe jata hai")
