#include "memory/note_subject.h"

#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace kasten::memory {
namespace {

// Hashes every lookup: std::hash<std::string_view> itself makes libstdc++ scan sets of up to 20 words linearly,
// which is slower than hashing for these short words.
struct WordHash {
    std::size_t operator()(std::string_view w) const noexcept { return std::hash<std::string_view>()(w); }
};
using WordSet = std::unordered_set<std::string_view, WordHash>;
using WordMap = std::unordered_map<std::string_view, std::string_view, WordHash>;

// ---------------------------------------------------------------------------------------------------------------
// Lexicons. All entries lower-case; single tokens unless noted.

// Discourse openers dropped before the holder ("Actually, I live in Boston").
const WordSet kInterjections = {"actually", "oh",    "so",   "well",  "btw",       "also",    "yes",        "yeah",
                                "yep",      "no",    "hey",  "hi",    "anyway",    "anyways", "ok",         "okay",
                                "um",       "uh",    "and",  "but",   "fyi",       "now",     "recently",   "currently",
                                "finally",  "still", "just", "today", "yesterday", "lately",  "officially", "guess",
                                "update",   "news",  "fun",  "fact"};
// Words that may sit between the parts of a predicate without changing it ("I still live in", "I'm now a").
const WordSet kSkippable = {"still",       "currently", "now",        "just",    "recently", "finally",  "also",
                            "actually",    "really",    "officially", "already", "even",     "happily",  "proudly",
                            "technically", "basically", "eventually", "gladly",  "newly",    "presently"};
// First words of an introductory phrase that ends at a comma ("In 2023, …", "After the move, …").
const WordSet kIntroStarters = {
    "in",          "on",       "at",        "as",           "after",      "before", "since",
    "last",        "this",     "during",    "from",         "for",        "by",     "following",
    "honestly",    "frankly",  "basically", "personally",   "apparently", "sadly",  "unfortunately",
    "fortunately", "luckily",  "besides",   "additionally", "earlier",    "plus",   "quick",
    "as",          "starting", "effective", "until",        "over"};
// Words that name a holder; an introductory phrase containing one is not dropped.
const WordSet kHolderWords = {"i", "my", "we", "our", "me", "user", "mine", "us"};
// Capitalised words that are not names at the start of a sentence.
const WordSet kNonNameWords = {
    "the",    "a",        "an",     "my",    "your",   "his",   "her",       "their",     "our",     "its",
    "this",   "that",     "these",  "those", "he",     "she",   "they",      "it",        "there",   "here",
    "we",     "you",      "what",   "when",  "where",  "why",   "how",       "who",       "which",   "if",
    "yes",    "no",       "not",    "last",  "next",   "today", "yesterday", "tomorrow",  "every",   "each",
    "some",   "all",      "both",   "after", "before", "since", "because",   "as",        "in",      "on",
    "at",     "for",      "from",   "with",  "by",     "about", "during",    "while",     "then",    "now",
    "also",   "and",      "but",    "or",    "so",     "i",     "user",      "assistant", "someone", "everyone",
    "nobody", "somebody", "anyone", "one",   "mom",    "dad",   "mum",       "grandma",   "grandpa"};
// People the user relates to: "my sister" → holder "user's sister". Mapped to a canonical form.
// clang-format off
const WordMap kRelations = {
    {"sister", "sister"}, {"brother", "brother"}, {"mom", "mother"}, {"mum", "mother"}, {"mother", "mother"},
    {"mama", "mother"}, {"mommy", "mother"}, {"dad", "father"}, {"father", "father"}, {"daddy", "father"},
    {"papa", "father"}, {"parents", "parents"}, {"wife", "wife"}, {"husband", "husband"}, {"hubby", "husband"},
    {"partner", "partner"}, {"spouse", "spouse"}, {"girlfriend", "girlfriend"}, {"gf", "girlfriend"},
    {"boyfriend", "boyfriend"}, {"bf", "boyfriend"}, {"fiance", "fiance"}, {"fiancee", "fiance"},
    {"fiancé", "fiance"}, {"fiancée", "fiance"}, {"son", "son"}, {"daughter", "daughter"}, {"kid", "kid"},
    {"child", "child"}, {"friend", "friend"}, {"roommate", "roommate"}, {"flatmate", "roommate"},
    {"cousin", "cousin"}, {"aunt", "aunt"}, {"uncle", "uncle"}, {"niece", "niece"}, {"nephew", "nephew"},
    {"grandma", "grandmother"}, {"grandmother", "grandmother"}, {"granny", "grandmother"}, {"grandpa", "grandfather"},
    {"grandfather", "grandfather"}, {"boss", "boss"}, {"manager", "manager"}, {"colleague", "colleague"},
    {"coworker", "coworker"}, {"co-worker", "coworker"}, {"neighbor", "neighbor"}, {"neighbour", "neighbor"},
    {"sibling", "sibling"}, {"stepmother", "stepmother"}, {"stepfather", "stepfather"}, {"stepson", "stepson"},
    {"stepdaughter", "stepdaughter"}, {"ex", "ex"}, {"ex-wife", "ex-wife"}, {"ex-husband", "ex-husband"},
    {"ex-girlfriend", "ex-girlfriend"}, {"ex-boyfriend", "ex-boyfriend"}, {"in-laws", "in-laws"},
    {"mother-in-law", "mother-in-law"}, {"father-in-law", "father-in-law"}, {"grandson", "grandson"},
    {"granddaughter", "granddaughter"}, {"twin", "twin"}, {"bestie", "best friend"}};
// clang-format on
// Relations that name the user's partner ("my wife is Anna" → partner: anna).
const WordSet kPartnerRelations = {"wife", "husband", "partner", "spouse", "girlfriend", "boyfriend", "fiance"};
// Modifiers kept as part of a relation ("my older sister").
const WordSet kRelationModifiers = {"best",   "older",  "younger",  "little", "big",  "baby",
                                    "eldest", "oldest", "youngest", "twin",   "step", "closest"};

// Ends the value of full-cut attributes: the start of a trailing adjunct or clause.
const WordSet kCutWords = {
    "for",     "because", "since",     "with",    "and",        "but",       "so",          "when",        "while",
    "after",   "before",  "now",       "then",    "until",      "till",      "as",          "at",          "from",
    "to",      "in",      "on",        "near",    "last",       "next",      "this",        "these",       "every",
    "each",    "ago",     "yesterday", "today",   "tonight",    "tomorrow",  "recently",    "lately",      "currently",
    "anymore", "again",   "too",       "already", "full-time",  "part-time", "permanently", "temporarily", "right",
    "which",   "who",     "where",     "that",    "about",      "around",    "by",          "during",      "not",
    "never",   "or",      "if",        "though",  "although",   "like",      "nowadays",    "soon",        "since",
    "over",    "under",   "into",      "without", "although",   "whereas",   "unless",      "once",        "still",
    "just",    "finally", "also",      "really",  "though",     "haha",      "lol",         "btw",         "whilst",
    "plus",    "even",    "thanks",    "through", "throughout", "via",       "against"};
// Ends the value of light-cut attributes (favourites, hobbies), whose values may hold "to", "of", "and"…
const WordSet kLightCutWords = {"because", "since",    "but", "though",  "although", "which",  "when",  "while",
                                "so",      "nowadays", "now", "anymore", "too",      "lately", "these", "right"};
// Generic words that are never a name, and never an organisation or place in lower-case text.
const WordSet kCommonWords = {
    "someone",    "somebody",  "nobody",    "anyone",     "everyone",   "something", "nothing",    "anything",
    "everything", "home",      "work",      "night",      "nights",     "day",       "days",       "morning",
    "mornings",   "evening",   "evenings",  "weekends",   "weekend",    "myself",    "yourself",   "himself",
    "herself",    "ourselves", "free",      "fun",        "money",      "hours",     "hour",       "least",
    "most",       "times",     "time",      "noon",       "midnight",   "living",    "once",       "first",
    "last",       "all",       "peace",     "pregnant",   "sick",       "ill",       "amazing",    "great",
    "awesome",    "wonderful", "busy",      "tired",      "away",       "out",       "working",    "here",
    "there",      "happy",     "sad",       "upset",      "angry",      "mad",       "late",       "nice",
    "sweet",      "kind",      "beautiful", "funny",      "smart",      "cool",      "fine",       "ok",
    "okay",       "good",      "bad",       "back",       "gone",       "retired",   "older",      "younger",
    "best",       "a",         "an",        "the",        "my",         "your",      "his",        "her",
    "their",      "our",       "it",        "this",       "that",       "very",      "really",     "so",
    "not",        "no",        "yes",       "bit",        "lot",        "little",    "big",        "huge",
    "fan",        "person",    "guy",       "girl",       "man",        "woman",     "pretty",     "quite",
    "also",       "still",     "just",      "always",     "never",      "sometimes", "often",      "usually",
    "new",        "old",       "same",      "different",  "small",      "school",    "college",    "office",
    "gym",        "church",    "bed",       "lunch",      "dinner",     "breakfast", "random",     "whatever",
    "too",        "both",      "one",       "well",       "hard",       "late",      "early",      "remotely",
    "remote",     "overtime",  "shifts",    "shift",      "home-based", "length",    "moment",     "present",
    "large",      "hand",      "fear",      "denial",     "hope",       "love",      "mind",       "pain",
    "dawn",       "dusk",      "weekdays",  "sundays",    "saturdays",  "mondays",   "nightshift", "daytime",
    "nighttime",  "things",    "stuff",     "people",     "others",     "me",        "you",        "him",
    "them",       "us",        "each",      "other",      "such",       "what",      "who",        "how",
    "why",        "where",     "when",      "ready",      "sure",       "sorry",     "glad",       "excited",
    "nervous",    "worried",   "scared",    "interested", "available",  "alone",     "together",   "single",
    "married",    "engaged",   "divorced",  "enough",     "able",       "done",      "online",     "offline",
    "abroad",     "overseas",  "downtown",  "upstairs",   "downstairs", "inside",    "outside",    "dog",
    "cat",        "baby",      "kid",       "kids",       "child",      "mom",       "dad",        "sister",
    "brother",    "friend",    "friends",   "family",     "parents",    "partner",   "wife",       "husband",
    "boss"};
// Not a residence whatever the casing ("I live in fear").
const WordSet kNonPlaces = {"fear",    "denial",   "hope",     "peace",      "harmony", "comfort", "luxury",  "poverty",
                            "sin",     "past",     "moment",   "bubble",     "dream",   "dreams",  "reality", "hell",
                            "heaven",  "style",    "debt",     "misery",     "silence", "shame",   "terror",  "team",
                            "role",    "position", "job",      "department", "project", "level",   "stage",   "phase",
                            "version", "plan",     "app",      "grade",      "class",   "group",   "chapter", "topic",
                            "subject", "section",  "question", "stage",      "tier",    "spot",    "seat",    "desk"};
// Places without a capital letter that still are places ("I moved to the suburbs").
const WordSet kGenericPlaces = {
    "city",     "suburbs", "suburb",    "countryside", "country", "coast",  "area", "neighborhood", "neighbourhood",
    "town",     "village", "state",     "mountains",   "south",   "north",  "east", "west",         "midwest",
    "downtown", "uptown",  "outskirts", "island",      "beach",   "valley", "farm", "coastline",    "capital"};
// Dwellings: "I live in a small apartment in Boston" → the place is after the dwelling.
const WordSet kDwellings = {"apartment", "flat",  "house",   "home",      "condo", "studio",   "townhouse", "dorm",
                            "duplex",    "cabin", "loft",    "place",     "room",  "basement", "bungalow",  "cottage",
                            "rental",    "unit",  "trailer", "penthouse", "villa", "residence"};
// Head nouns of organisations ("a startup", "the city hospital").
const WordSet kOrgNouns = {
    "company",    "startup",      "start-up",     "firm",       "bank",        "hospital",     "clinic",
    "school",     "university",   "college",      "agency",     "store",       "shop",         "restaurant",
    "cafe",       "café",         "bakery",       "factory",    "lab",         "laboratory",   "nonprofit",
    "non-profit", "charity",      "hotel",        "airline",    "studio",      "practice",     "corporation",
    "corp",       "group",        "institute",    "library",    "museum",      "warehouse",    "plant",
    "department", "ministry",     "government",   "newspaper",  "magazine",    "publisher",    "consultancy",
    "retailer",   "supermarket",  "pharmacy",     "center",     "centre",      "organization", "organisation",
    "foundation", "brewery",      "winery",       "dealership", "nursery",     "daycare",      "office",
    "firm",       "insurer",      "manufacturer", "supplier",   "distributor", "chain",        "franchise",
    "bookstore",  "outlet",       "mill",         "mine",       "shipyard",    "base",         "station",
    "network",    "broadcaster",  "conglomerate", "utility",    "council",     "court",        "prison",
    "academy",    "kindergarten", "zoo",          "theater",    "theatre",     "gallery",      "salon",
    "spa",        "garage",       "workshop",     "bar",        "pub",         "diner",        "club",
    "gym"};
// Head nouns of occupations ("senior software engineer", "nurse").
const WordSet kJobNouns = {"engineer",
                           "developer",
                           "programmer",
                           "teacher",
                           "nurse",
                           "doctor",
                           "physician",
                           "surgeon",
                           "dentist",
                           "lawyer",
                           "attorney",
                           "accountant",
                           "manager",
                           "director",
                           "designer",
                           "architect",
                           "scientist",
                           "researcher",
                           "analyst",
                           "consultant",
                           "student",
                           "professor",
                           "lecturer",
                           "writer",
                           "author",
                           "journalist",
                           "editor",
                           "artist",
                           "musician",
                           "chef",
                           "baker",
                           "barista",
                           "waiter",
                           "waitress",
                           "server",
                           "bartender",
                           "pilot",
                           "driver",
                           "mechanic",
                           "electrician",
                           "plumber",
                           "carpenter",
                           "firefighter",
                           "officer",
                           "cop",
                           "policeman",
                           "policewoman",
                           "soldier",
                           "pharmacist",
                           "therapist",
                           "psychologist",
                           "psychiatrist",
                           "counselor",
                           "counsellor",
                           "worker",
                           "vet",
                           "veterinarian",
                           "paramedic",
                           "farmer",
                           "photographer",
                           "entrepreneur",
                           "founder",
                           "co-founder",
                           "ceo",
                           "cto",
                           "cfo",
                           "coo",
                           "vp",
                           "president",
                           "intern",
                           "assistant",
                           "administrator",
                           "clerk",
                           "cashier",
                           "librarian",
                           "realtor",
                           "broker",
                           "banker",
                           "trader",
                           "economist",
                           "mathematician",
                           "physicist",
                           "chemist",
                           "biologist",
                           "technician",
                           "specialist",
                           "coordinator",
                           "supervisor",
                           "executive",
                           "salesperson",
                           "salesman",
                           "saleswoman",
                           "representative",
                           "rep",
                           "freelancer",
                           "contractor",
                           "tutor",
                           "coach",
                           "instructor",
                           "trainer",
                           "translator",
                           "interpreter",
                           "dancer",
                           "actor",
                           "actress",
                           "singer",
                           "producer",
                           "filmmaker",
                           "animator",
                           "illustrator",
                           "statistician",
                           "nanny",
                           "caregiver",
                           "housekeeper",
                           "janitor",
                           "homemaker",
                           "postdoc",
                           "paralegal",
                           "secretary",
                           "receptionist",
                           "dietitian",
                           "nutritionist",
                           "optometrist",
                           "radiologist",
                           "hygienist",
                           "midwife",
                           "sergeant",
                           "lieutenant",
                           "dean",
                           "surveyor",
                           "welder",
                           "machinist",
                           "foreman",
                           "laborer",
                           "fisherman",
                           "rancher",
                           "gardener",
                           "landscaper",
                           "hairdresser",
                           "stylist",
                           "barber",
                           "tailor",
                           "jeweler",
                           "florist",
                           "sysadmin",
                           "strategist",
                           "marketer",
                           "recruiter",
                           "auditor",
                           "underwriter",
                           "actuary",
                           "planner",
                           "builder",
                           "inspector",
                           "investigator",
                           "detective",
                           "guard",
                           "firefighter",
                           "ranger",
                           "miner",
                           "principal",
                           "headteacher",
                           "professor",
                           "resident",
                           "fellow",
                           "educator",
                           "counsel",
                           "advisor",
                           "adviser",
                           "copywriter",
                           "blogger",
                           "youtuber",
                           "streamer",
                           "influencer",
                           "podcaster",
                           "composer",
                           "conductor",
                           "violinist",
                           "pianist",
                           "guitarist",
                           "drummer",
                           "sculptor",
                           "painter",
                           "potter",
                           "cartographer",
                           "geologist",
                           "astronomer",
                           "engineer",
                           "dispatcher",
                           "courier",
                           "chauffeur",
                           "mover",
                           "logistician",
                           "programer",
                           "lead",
                           "tester",
                           "associate",
                           "apprentice",
                           "volunteer",
                           "pastor",
                           "priest",
                           "rabbi",
                           "imam",
                           "minister",
                           "senator",
                           "mayor",
                           "diplomat",
                           "ambassador",
                           "judge",
                           "clinician",
                           "doula",
                           "caretaker",
                           "babysitter",
                           "mentor",
                           "archaeologist",
                           "anthropologist",
                           "historian",
                           "philosopher",
                           "linguist",
                           "sociologist",
                           "neuroscientist",
                           "epidemiologist",
                           "nurse-practitioner",
                           "pediatrician",
                           "cardiologist",
                           "dermatologist",
                           "anesthesiologist",
                           "oncologist",
                           "neurologist",
                           "orthodontist",
                           "chiropractor",
                           "physiotherapist",
                           "bookkeeper",
                           "cleaner",
                           "housewife",
                           "househusband",
                           "freelance",
                           "entertainer",
                           "comedian",
                           "magician",
                           "footballer"};
// Vehicles: makes, models and vehicle nouns.
const WordSet kCarWords = {"toyota",   "honda",         "ford",     "tesla",     "subaru",      "bmw",      "audi",
                           "mercedes", "mercedes-benz", "chevy",    "chevrolet", "nissan",      "hyundai",  "kia",
                           "mazda",    "volkswagen",    "vw",       "volvo",     "jeep",        "lexus",    "porsche",
                           "dodge",    "gmc",           "fiat",     "jaguar",    "rover",       "cadillac", "buick",
                           "chrysler", "lincoln",       "acura",    "infiniti",  "mitsubishi",  "peugeot",  "renault",
                           "skoda",    "seat",          "citroen",  "ferrari",   "lamborghini", "maserati", "bentley",
                           "rivian",   "lucid",         "polestar", "mini",      "prius",       "civic",    "camry",
                           "corolla",  "accord",        "outback",  "forester",  "crosstrek",   "mustang",  "f-150",
                           "wrangler", "rav4",          "cr-v",     "model",     "leaf",        "golf",     "jetta",
                           "beetle",   "miata",         "tacoma",   "tundra",    "highlander",  "pilot",    "odyssey",
                           "sienna",   "silverado",     "impreza",  "altima",    "sentra",      "elantra",  "sonata",
                           "tucson",   "soul",          "cx-5",     "escape",    "explorer",    "bronco",   "cherokee",
                           "volt",     "bolt",          "taurus"};
const WordSet kVehicleNouns = {"car",     "truck",  "suv",        "van",       "sedan",  "hatchback",
                               "minivan", "pickup", "motorcycle", "motorbike", "jeep",   "convertible",
                               "coupe",   "wagon",  "ev",         "hybrid",    "camper", "rv"};
const WordSet kPhoneWords = {"iphone",   "pixel", "galaxy", "samsung", "android", "oneplus",
                             "motorola", "moto",  "nokia",  "xiaomi",  "huawei",  "blackberry"};
// clang-format off
const WordMap kDiets = {
    {"vegetarian", "vegetarian"}, {"vegan", "vegan"}, {"pescatarian", "pescatarian"}, {"pescetarian", "pescatarian"},
    {"keto", "keto"}, {"ketogenic", "keto"}, {"paleo", "paleo"}, {"gluten-free", "gluten-free"},
    {"dairy-free", "dairy-free"}, {"plant-based", "plant-based"}, {"carnivore", "carnivore"}, {"kosher", "kosher"},
    {"halal", "halal"}, {"low-carb", "low-carb"}, {"flexitarian", "flexitarian"}, {"omnivore", "omnivore"},
    {"whole30", "whole30"}, {"mediterranean", "mediterranean"}};
// clang-format on
// clang-format off
const WordMap kSpecies = {
    {"dog", "dog"}, {"puppy", "dog"}, {"pup", "dog"}, {"cat", "cat"}, {"kitten", "cat"}, {"kitty", "cat"},
    {"parrot", "parrot"}, {"bird", "bird"}, {"rabbit", "rabbit"}, {"bunny", "rabbit"}, {"hamster", "hamster"},
    {"guinea", "guinea pig"}, {"turtle", "turtle"}, {"tortoise", "tortoise"}, {"horse", "horse"}, {"pony", "horse"},
    {"fish", "fish"}, {"goldfish", "fish"}, {"snake", "snake"}, {"lizard", "lizard"}, {"gecko", "gecko"},
    {"ferret", "ferret"}, {"parakeet", "parakeet"}, {"budgie", "parakeet"}, {"cockatiel", "cockatiel"},
    {"chinchilla", "chinchilla"}, {"rat", "rat"}, {"mouse", "mouse"}};
// clang-format on
// clang-format off
const WordMap kCountables = {
    {"kids", "kids"}, {"kid", "kids"}, {"children", "kids"}, {"child", "kids"}, {"sons", "sons"}, {"son", "sons"},
    {"daughters", "daughters"}, {"daughter", "daughters"}, {"pets", "pets"}, {"pet", "pets"}, {"dogs", "dogs"},
    {"dog", "dogs"}, {"cats", "cats"}, {"cat", "cats"}, {"siblings", "siblings"}, {"sibling", "siblings"},
    {"brothers", "brothers"}, {"brother", "brothers"}, {"sisters", "sisters"}, {"sister", "sisters"},
    {"grandchildren", "grandchildren"}, {"grandchild", "grandchildren"}, {"grandkids", "grandchildren"},
    {"grandkid", "grandchildren"}, {"cars", "cars"}, {"car", "cars"}, {"roommates", "roommates"},
    {"roommate", "roommates"}};
// clang-format on
// First words that make "a <job noun>" not a job title ("a good cook", "a former nurse", "a careful driver").
const WordSet kNotJobModifiers = {"good",     "bad",   "great",   "terrible", "careful",  "slow",        "fast",
                                  "big",      "huge",  "decent",  "awful",    "better",   "best",        "worse",
                                  "horrible", "picky", "messy",   "nervous",  "light",    "heavy",       "early",
                                  "late",     "night", "morning", "total",    "complete", "real",        "bit",
                                  "little",   "lot",   "amateur", "hobby",    "aspiring", "wannabe",     "former",
                                  "retired",  "ex",    "future",  "wannabe",  "weekend",  "terrible",    "natural",
                                  "born",     "proud", "happy",   "lucky",    "budding",  "self-taught", "recovering"};
// Words that are never a person's or pet's name even in lower-case text.
const WordSet kNotNames = {"bike", "foot",     "car",  "bicycle",  "plane",    "boat", "phone", "email", "text",
                           "mail", "nickname", "name", "anything", "whatever", "sir",  "madam", "maam",  "ma'am"};
const WordSet kTransit = {"train", "bus",         "subway",  "metro",     "tram",       "ferry",
                          "tube",  "underground", "shuttle", "streetcar", "light-rail", "lightrail"};
const WordSet kRelationshipStatuses = {"married", "single", "engaged", "divorced", "widowed", "separated"};
const WordSet kEducationNouns = {"school",       "university",  "college",  "academy", "institute",
                                 "conservatory", "polytechnic", "seminary", "uni",     "mit",
                                 "ucla",         "nyu",         "usc"};
const WordSet kAbbreviations = {"st",   "mt",  "ft",  "dr",  "mr",   "mrs", "ms",   "jr",  "sr",  "inc", "co",
                                "corp", "ltd", "vs",  "etc", "prof", "ave", "blvd", "rd",  "no",  "jan", "feb",
                                "mar",  "apr", "jun", "jul", "aug",  "sep", "sept", "oct", "nov", "dec"};
// clang-format off
const WordMap kNumberWords = {
    {"zero", "0"}, {"one", "1"}, {"two", "2"}, {"three", "3"}, {"four", "4"}, {"five", "5"}, {"six", "6"},
    {"seven", "7"}, {"eight", "8"}, {"nine", "9"}, {"ten", "10"}, {"eleven", "11"}, {"twelve", "12"},
    {"thirteen", "13"}, {"fourteen", "14"}, {"fifteen", "15"}, {"sixteen", "16"}, {"seventeen", "17"},
    {"eighteen", "18"}, {"nineteen", "19"}, {"twenty", "20"}, {"thirty", "30"}, {"forty", "40"}, {"fifty", "50"},
    {"sixty", "60"}, {"seventy", "70"}, {"eighty", "80"}, {"ninety", "90"}, {"hundred", "100"}};
// clang-format on

// ---------------------------------------------------------------------------------------------------------------
// Tokens.

struct Token {
    std::string lower;
    std::string orig;
    bool punct = false;
    bool skippable = false;  // `lower` is in kSkippable (set by parse())
};

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');  // std::tolower of the "C" locale
    }
    return out;
}

bool is_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

// Typographic quotes and dashes to ASCII.
std::string normalise_text(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size();) {
        const auto c = static_cast<unsigned char>(in[i]);
        if (c == 0xE2 && i + 2 < in.size() && static_cast<unsigned char>(in[i + 1]) == 0x80) {
            const auto d = static_cast<unsigned char>(in[i + 2]);
            if (d == 0x98 || d == 0x99) {
                out += '\'';
                i += 3;
                continue;
            }
            if (d == 0x9C || d == 0x9D) {
                out += '"';
                i += 3;
                continue;
            }
            if (d == 0x93 || d == 0x94) {
                out += " - ";
                i += 3;
                continue;
            }
        }
        out += static_cast<char>(c);
        ++i;
    }
    return out;
}

// "(2023-05)", "[2023-05-16]", "(05/16/2023)": digits with date punctuation only.
bool is_date_like(std::string_view inner) {
    bool digit = false;
    for (char c : inner) {
        if (std::isdigit(static_cast<unsigned char>(c))) {
            digit = true;
        } else if (std::string_view("-/:., T~").find(c) == std::string_view::npos) {
            return false;
        }
    }
    return digit;
}

std::string strip_bracketed_dates(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '(' || c == '[') {
            const std::size_t j = s.find(c == '(' ? ')' : ']', i + 1);
            if (j != std::string::npos && is_date_like(std::string_view(s).substr(i + 1, j - i - 1))) {
                out += ' ';
                i = j;
                continue;
            }
        }
        out += c;
    }
    return out;
}

void push_word(std::vector<Token>& out, std::string orig) {
    if (orig.empty()) return;
    Token t;
    t.lower = to_lower(orig);
    t.orig = std::move(orig);
    out.push_back(std::move(t));
}

void push_punct(std::vector<Token>& out, std::string_view p) {
    out.push_back(Token{std::string(p), std::string(p), true});
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// "u.s", "d.c": single letters separated by dots.
bool is_dotted_initials(std::string_view w) {
    if (w.size() < 3) return false;
    for (std::size_t i = 0; i < w.size(); ++i) {
        const bool letter = std::isalpha(static_cast<unsigned char>(w[i])) != 0;
        if ((i % 2 == 0) != letter) return false;
        if (i % 2 == 1 && w[i] != '.') return false;
    }
    return true;
}

// One whitespace-delimited word: quotes stripped, a sentence-final dot split off, contractions expanded
// ("don't" → do not, "I'm" → I am, "dog's" → dog 's).
void emit_word(std::string w, std::vector<Token>& out) {
    while (!w.empty() && w.front() == '\'') w.erase(w.begin());
    bool final_dot = false;
    while (!w.empty() && (w.back() == '.' || w.back() == '\'')) {
        if (w.back() == '.') {
            const std::string stem = to_lower(std::string_view(w).substr(0, w.size() - 1));
            if (kAbbreviations.count(stem) != 0 || is_dotted_initials(stem)) break;
            final_dot = true;
            w.pop_back();
        } else if (w.size() >= 2 && (w[w.size() - 2] == 's' || w[w.size() - 2] == 'S')) {
            w.pop_back();  // plural possessive: "parents'" → parents 's
            push_word(out, w);
            out.push_back(Token{"'s", "'s", false});
            w.clear();
        } else {
            w.pop_back();
        }
    }
    if (w == "-" || w == "--") {
        push_punct(out, "-");
        w.clear();
    }
    if (!w.empty()) {
        const std::string lower = to_lower(w);
        struct Suffix {
            std::string_view suffix;
            std::string_view expansion;
        };
        static constexpr Suffix kSuffixes[] = {{"'m", "am"},    {"'re", "are"},  {"'ve", "have"},
                                               {"'ll", "will"}, {"'d", "would"}, {"'s", "'s"}};
        bool done = false;
        if (lower.find('\'') == std::string::npos && lower != "cannot") {
            out.push_back(Token{lower, w, false});  // no contraction: most words
            done = true;
        } else if (lower == "can't" || lower == "cannot") {
            push_word(out, w.substr(0, 2) + "n");
            push_word(out, "not");
            done = true;
        } else if (lower == "won't") {
            push_word(out, w.substr(0, 1) + "ill");
            push_word(out, "not");
            done = true;
        } else if (lower == "ain't") {
            push_word(out, "am");
            push_word(out, "not");
            done = true;
        } else if (ends_with(lower, "n't") && lower.size() > 3) {
            push_word(out, w.substr(0, w.size() - 3));
            push_word(out, "not");
            done = true;
        }
        for (const auto& s : kSuffixes) {
            if (done) break;
            if (ends_with(lower, s.suffix) && lower.size() > s.suffix.size()) {
                push_word(out, w.substr(0, w.size() - s.suffix.size()));
                push_word(out, std::string(s.expansion));
                done = true;
            }
        }
        if (!done) push_word(out, w);
    }
    if (final_dot) push_punct(out, ".");
}

// std::isspace of the "C" locale (kasten never changes the locale).
bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// The characters that are tokens by themselves: , ; : ! ? ( ) [ ] { }
bool is_punct_char(char c) {
    switch (c) {
        case ',':
        case ';':
        case ':':
        case '!':
        case '?':
        case '(':
        case ')':
        case '[':
        case ']':
        case '{':
        case '}':
            return true;
        default:
            return false;
    }
}

std::vector<Token> tokenize(std::string_view text) {
    const std::string s = strip_bracketed_dates(normalise_text(text));
    std::vector<Token> out;
    out.reserve(s.size() / 4 + 4);
    std::size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (is_space(c) || c == '"') {
            ++i;
            continue;
        }
        if (is_punct_char(c)) {
            push_punct(out, std::string_view(&s[i], 1));
            ++i;
            continue;
        }
        std::size_t j = i;
        while (j < s.size() && !is_space(s[j]) && s[j] != '"' && !is_punct_char(s[j])) {
            ++j;
        }
        emit_word(s.substr(i, j - i), out);
        i = j;
    }
    return out;
}

bool has_upper(std::string_view text) {
    for (char c : text) {
        if (std::isupper(static_cast<unsigned char>(c))) return true;
    }
    return false;
}

bool is_capitalised(const Token& t) {
    return !t.orig.empty() && std::isupper(static_cast<unsigned char>(t.orig[0])) != 0;
}

// The first sentence's tokens; empty when it is a question.
std::vector<Token> first_sentence(std::vector<Token> tokens) {
    std::size_t end = tokens.size();
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const Token& t = tokens[i];
        if (t.punct && (t.lower == "." || t.lower == "!" || t.lower == ";")) {
            end = i;
            break;
        }
        if (t.punct && t.lower == "?") return {};
    }
    tokens.resize(end);
    return tokens;
}

std::string_view at(const std::vector<Token>& t, std::size_t i) {
    return i < t.size() ? std::string_view(t[i].lower) : std::string_view();
}

// Index of the first token after discourse openers and short introductory phrases
// ("Actually, …", "By the way, …", "Last month, …", "In 2023, …").
std::size_t skip_preamble(const std::vector<Token>& t) {
    std::size_t p = 0;
    for (bool changed = true; changed && p < t.size();) {
        changed = false;
        if (at(t, p) == "by" && at(t, p + 1) == "the" && at(t, p + 2) == "way") {
            p += 3;
            changed = true;
        } else if ((at(t, p) == "last" || at(t, p) == "this") &&
                   (at(t, p + 1) == "week" || at(t, p + 1) == "month" || at(t, p + 1) == "year" ||
                    at(t, p + 1) == "weekend" || at(t, p + 1) == "summer" || at(t, p + 1) == "winter" ||
                    at(t, p + 1) == "spring" || at(t, p + 1) == "fall" || at(t, p + 1) == "autumn")) {
            p += 2;
            changed = true;
        } else if (!t[p].punct && kInterjections.count(t[p].lower) != 0) {
            ++p;
            changed = true;
        } else if (kIntroStarters.count(t[p].lower) != 0 || is_digits(t[p].lower)) {
            for (std::size_t k = p; k < t.size() && k < p + 7; ++k) {
                if (t[k].lower == ",") {
                    if (k > p) {
                        p = k + 1;
                        changed = true;
                    }
                    break;
                }
                if (t[k].punct || kHolderWords.count(t[k].lower) != 0) break;
            }
        }
        while (p < t.size() && t[p].punct && (t[p].lower == "," || t[p].lower == "-" || t[p].lower == ":")) {
            ++p;
            changed = true;
        }
    }
    return p;
}

// ---------------------------------------------------------------------------------------------------------------
// Holders.

enum class Form { kSubject, kPossessive };

struct Holder {
    std::string holder;  // kSubject: the grammatical subject; kPossessive: the possessor ("my name" → user)
    Form form = Form::kSubject;
    bool we = false;       // "we" / "our": the user's household
    std::string parent;    // when `holder` is a relation ("user's wife"): its possessor ("user")
    std::string relation;  // that relation's canonical word ("wife"), "" otherwise
    std::size_t next = 0;  // first token after the holder
};

bool is_name_token(const Token& t) {
    if (t.punct || !is_capitalised(t) || kNonNameWords.count(t.lower) != 0) return false;
    for (char c : t.orig) {
        const auto u = static_cast<unsigned char>(c);
        if (!(std::isalpha(u) || c == '-' || u >= 0x80)) return false;
    }
    return true;
}

std::optional<Holder> parse_holder(const std::vector<Token>& t, std::size_t p, bool cased) {
    std::string possessor;
    bool we = false;
    if (at(t, p) == "i") return Holder{"user", Form::kSubject, false, "", "", p + 1};
    if (at(t, p) == "we") return Holder{"user", Form::kSubject, true, "", "", p + 1};
    if (at(t, p) == "my" || at(t, p) == "our") {
        we = at(t, p) == "our";
        possessor = "user";
        ++p;
    } else {
        std::size_t q = p;
        if (at(t, q) == "the" && at(t, q + 1) == "user") ++q;
        if (at(t, q) == "user") {
            if (at(t, q + 1) != "'s") return Holder{"user", Form::kSubject, false, "", "", q + 1};
            possessor = "user";
            p = q + 2;
        } else if (cased) {
            std::string name;
            std::size_t r = p;
            while (r < t.size() && r < p + 2 && is_name_token(t[r])) {
                if (!name.empty()) name += ' ';
                name += t[r].lower;
                ++r;
            }
            if (name.empty()) return std::nullopt;
            if (at(t, r) != "'s") return Holder{name, Form::kSubject, false, "", "", r};
            possessor = name;
            p = r + 1;
        } else {
            return std::nullopt;
        }
    }
    // The possessive chain: "my sister's husband" → user's sister's husband.
    std::string parent;
    std::string relation;
    for (;;) {
        std::size_t r = p;
        std::string modifiers;
        while (r < t.size() && r < p + 2 && kRelationModifiers.count(t[r].lower) != 0) {
            modifiers += t[r].lower + " ";
            ++r;
        }
        const auto rel = r < t.size() ? kRelations.find(t[r].lower) : kRelations.end();
        if (rel == kRelations.end()) {
            Holder h{possessor, Form::kPossessive, we, parent, relation, p};
            return h;
        }
        const std::string holder = possessor + "'s " + modifiers + std::string(rel->second);
        parent = possessor;
        relation = modifiers.empty() ? std::string(rel->second) : "";
        if (at(t, r + 1) == "'s") {
            possessor = holder;
            p = r + 2;
            continue;
        }
        return Holder{holder, Form::kSubject, false, parent, relation, r + 1};
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Predicate patterns.

enum class Slot {
    kLiteral,   // one of the alternatives
    kOptional,  // one of the alternatives, or nothing
    // Single-token captures.
    kSpecies,
    kDiet,
    kTransit,
    kNumber,
    kCount,
    kCountable,
    kStatus,
    kKey,  // 1..3 tokens naming a favourite's thing
    // Terminal captures: the rest of the sentence, cut and checked.
    kPlace,
    kOrg,
    kOrgStrict,
    kJob,
    kName,
    kFree,
    kLight,
    kCar,
    kPhone,
    kSchool,
    kSchoolStrict,
};

struct Element {
    Slot slot = Slot::kLiteral;
    std::vector<std::string> alternatives;
    bool accepts(std::string_view w) const {
        for (const auto& a : alternatives) {
            if (a == w) return true;
        }
        return false;
    }
};

constexpr unsigned kAllowWe = 1;      // the rule also applies to "we" / "our"
constexpr unsigned kPartnerOnly = 2;  // the rule applies only when the holder is a partner ("my wife is Anna")

struct RuleSpec {
    const char* attribute;    // "{}" is replaced by the first single-token capture (species, countable) or the key
    const char* pattern;      // space-separated: "a|b" literal, "[a|b]" optional, "{slot}" capture
    const char* fixed_value;  // nullptr: the value is the terminal capture, else the last single-token capture
    unsigned flags;
};

struct Rule {
    std::string attribute;
    std::vector<Element> elements;
    std::optional<std::string> fixed_value;
    unsigned flags = 0;
};

Slot slot_named(std::string_view name) {
    static const std::unordered_map<std::string_view, Slot> kSlots = {{"species", Slot::kSpecies},
                                                                      {"diet", Slot::kDiet},
                                                                      {"transit", Slot::kTransit},
                                                                      {"number", Slot::kNumber},
                                                                      {"count", Slot::kCount},
                                                                      {"countable", Slot::kCountable},
                                                                      {"status", Slot::kStatus},
                                                                      {"key", Slot::kKey},
                                                                      {"place", Slot::kPlace},
                                                                      {"org", Slot::kOrg},
                                                                      {"org_strict", Slot::kOrgStrict},
                                                                      {"job", Slot::kJob},
                                                                      {"name", Slot::kName},
                                                                      {"free", Slot::kFree},
                                                                      {"light", Slot::kLight},
                                                                      {"car", Slot::kCar},
                                                                      {"phone", Slot::kPhone},
                                                                      {"school", Slot::kSchool},
                                                                      {"school_strict", Slot::kSchoolStrict}};
    return kSlots.at(name);  // patterns are compile-time constants of this file
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = s.find(sep, start);
        const std::string_view part = s.substr(start, end == std::string_view::npos ? end : end - start);
        if (!part.empty()) out.emplace_back(part);
        if (end == std::string_view::npos) return out;
        start = end + 1;
    }
}

std::vector<Rule> compile(const std::vector<RuleSpec>& specs) {
    std::vector<Rule> rules;
    for (const RuleSpec& spec : specs) {
        Rule rule;
        rule.attribute = spec.attribute;
        if (spec.fixed_value != nullptr) rule.fixed_value = spec.fixed_value;
        rule.flags = spec.flags;
        for (const std::string& part : split(spec.pattern, ' ')) {
            Element e;
            if (part.front() == '{') {
                e.slot = slot_named(std::string_view(part).substr(1, part.size() - 2));
            } else if (part.front() == '[') {
                e.slot = Slot::kOptional;
                e.alternatives = split(std::string_view(part).substr(1, part.size() - 2), '|');
            } else {
                e.alternatives = split(part, '|');
            }
            rule.elements.push_back(std::move(e));
        }
        rules.push_back(std::move(rule));
    }
    return rules;
}

// Rules for "<holder> <predicate>": "I live in …", "my sister works at …", "The user is a nurse".
// Order matters: the first rule whose pattern matches and whose value passes its check wins.
const std::vector<Rule>& subject_rules() {
    static const std::vector<Rule> kRules = compile({
        // Partner by name: "my wife is Anna" (only for partner relations).
        {"partner", "am|is|are {name}", nullptr, kPartnerOnly},
        // Residence.
        {"residence", "live|lives|reside|resides in {place}", nullptr, kAllowWe},
        {"residence", "am|is|are living|residing|staying in {place}", nullptr, kAllowWe},
        {"residence", "have|has been living|residing in {place}", nullptr, kAllowWe},
        {"residence", "have|has lived in {place}", nullptr, kAllowWe},
        {"residence", "[have|has] moved|relocated [back] to {place}", nullptr, kAllowWe},
        {"residence", "am|is|are based in {place}", nullptr, kAllowWe},
        {"residence", "am|is|are based out of {place}", nullptr, kAllowWe},
        {"residence", "[have|has] bought|purchased a|an [new] house|home|condo|apartment|flat in {place}", nullptr,
         kAllowWe},
        {"hometown", "grew up in {place}", nullptr, kAllowWe},
        {"hometown", "am|is|are originally from {place}", nullptr, kAllowWe},
        {"birthplace", "was born in {place}", nullptr, 0},
        // Diet (before job titles: "I'm a vegetarian").
        {"diet", "am|is|are [a|an] {diet}", nullptr, 0},
        {"diet", "have|has been [a|an] {diet}", nullptr, 0},
        {"diet", "[have|has] went|gone|become|became|turned [a|an] {diet}", nullptr, 0},
        {"diet", "follow|follows a|an|the {diet} diet", nullptr, 0},
        {"diet", "am|is|are on a|an|the {diet} diet", nullptr, 0},
        {"diet", "eat|eats {diet}", nullptr, 0},
        // School (before job titles: "I'm a student at MIT").
        {"school",
         "am|is a|an [grad|graduate|phd|undergraduate|undergrad|college|university|medical|law|nursing|exchange|"
         "freshman|sophomore|junior|senior] student|freshman|sophomore|junior|senior at|in {school}",
         nullptr, 0},
        {"school", "study|studies at {school}", nullptr, 0},
        {"school", "am|is|are studying at {school}", nullptr, 0},
        {"school", "am|is|are enrolled at|in {school}", nullptr, 0},
        {"school", "attend|attends {school_strict}", nullptr, 0},
        {"school", "am|is|are attending {school_strict}", nullptr, 0},
        {"school", "go|goes to {school_strict}", nullptr, 0},
        // Employer.
        {"employer", "work|works at|for {org}", nullptr, 0},
        {"employer", "am|is|are working at|for {org}", nullptr, 0},
        {"employer", "have|has been working at|for {org}", nullptr, 0},
        {"employer", "have|has worked at|for {org}", nullptr, 0},
        {"employer", "am|is|are employed at|by {org}", nullptr, 0},
        {"employer", "[have|has] started|began|begun [a|my] [new] job at|with {org}", nullptr, 0},
        {"employer", "[have|has] started|began|begun working at|for {org}", nullptr, 0},
        {"employer", "[have|has] got|gotten|landed|accepted|took|taken [a|an] [new] job|position|role at|with {org}",
         nullptr, 0},
        {"employer", "got|was|were|have|has [been] hired at|by {org}", nullptr, 0},
        {"employer", "[have|has] accepted [a|an] [job] offer from {org}", nullptr, 0},
        {"employer", "[have|has] joined {org_strict}", nullptr, 0},
        {"employer", "[have|has] left|quit my|his|her|their job", "", 0},
        {"employer", "got|was|were|have|has [been] laid off", "", 0},
        {"employer", "got|was|were|have|has [been] fired", "", 0},
        {"employer", "[have|has] retired", "", 0},
        {"employer", "am|is|are retired|unemployed", "", 0},
        // Job title.
        {"job_title", "work|works as [a|an] {job}", nullptr, 0},
        {"job_title", "am|is|are working as [a|an] {job}", nullptr, 0},
        {"job_title", "[have|has] [got|gotten|was|were|been] promoted to [a|an] {job}", nullptr, 0},
        {"job_title", "[have|has] became|become [a|an] {job}", nullptr, 0},
        {"job_title", "am|is|are [a|an] {job}", nullptr, 0},
        // Relationship.
        {"relationship_status", "am|is|are {status}", nullptr, 0},
        {"relationship_status", "got|gotten|have|has [got|gotten|been] {status}", nullptr, 0},
        {"relationship_status", "am|is|are in a relationship", "in a relationship", 0},
        {"relationship_status", "[have|has] broke|broken up", "single", 0},
        {"partner", "am|is|are dating {name}", nullptr, 0},
        {"partner", "have|has a|an girlfriend|boyfriend|partner|wife|husband|fiance|fiancee|spouse named|called {name}",
         nullptr, 0},
        // Pets.
        {"pet:{}", "have|has a|an [new] {species} named|called {name}", nullptr, kAllowWe},
        {"pet:{}", "[have|has] adopted|got|gotten|rescued a|an [new] {species} named|called {name}", nullptr, kAllowWe},
        // Commute (before cars: "I drive to work").
        {"commute", "commute|commutes [to] [work] by|via {free}", nullptr, 0},
        {"commute", "bike|bikes|cycle|cycles to work", "bike", 0},
        {"commute", "walk|walks to work", "walk", 0},
        {"commute", "drive|drives to work", "car", 0},
        {"commute", "take|takes the|a {transit} to work", nullptr, 0},
        // Car and phone.
        {"car", "drive|drives [a|an] {car}", nullptr, kAllowWe},
        {"car", "am|is|are driving [a|an] {car}", nullptr, kAllowWe},
        {"car", "[have|has] bought|got|gotten|leased|purchased [a|an] {car}", nullptr, kAllowWe},
        {"car", "own|owns [a|an] {car}", nullptr, kAllowWe},
        {"phone", "have|has|use|uses|got|bought [a|an] {phone}", nullptr, 0},
        {"phone", "[have|has] switched|upgraded to [a|an] {phone}", nullptr, 0},
        // Age.
        {"age", "am|is|are {number} years|year|yrs old", nullptr, 0},
        {"age", "am|is|are {number}", nullptr, 0},
        {"age", "[have|has] turned|turn {number}", nullptr, 0},
        // Counts.
        {"count:{}", "have|has {count} {countable}", nullptr, kAllowWe},
        // Name.
        {"name", "am|is called|named {name}", nullptr, 0},
        {"name", "go|goes by {name}", nullptr, 0},
    });
    return kRules;
}

// Rules for "<possessor>'s <noun> …": "my name is …", "my favorite color is …", "my dog is called …".
const std::vector<Rule>& possessive_rules() {
    static const std::vector<Rule> kRules = compile({
        {"name", "[first|full] name is {name}", nullptr, kAllowWe},
        {"favorite:{}", "favorite|favourite {key} is|are {light}", nullptr, kAllowWe},
        {"hobby", "[main] hobby is {light}", nullptr, 0},
        {"pet:{}", "[new] {species} is|'s called|named {name}", nullptr, kAllowWe},
        {"pet:{}", "[new] {species} 's name is {name}", nullptr, kAllowWe},
        {"phone_number", "[phone|cell|mobile] number is {free}", nullptr, 0},
        {"phone", "[new] phone|cellphone|smartphone is [a|an] {phone}", nullptr, 0},
        {"commute", "commute is {free}", nullptr, 0},
        {"residence", "[new] home|house|apartment|flat|place|condo is in {place}", nullptr, kAllowWe},
        {"residence", "home is {place}", nullptr, kAllowWe},
        {"car", "[new] car is [a|an] {car}", nullptr, kAllowWe},
        {"employer", "employer|workplace is {org}", nullptr, 0},
        {"job_title", "[job] title|role is [a|an] {free}", nullptr, 0},
        {"job_title", "[job] is [a|an] {job}", nullptr, 0},
        {"school", "school|university|college is {school}", nullptr, 0},
        {"birthday", "birthday is [on] {free}", nullptr, 0},
        {"age", "age is {number}", nullptr, 0},
        {"diet", "diet is [a|an] {diet}", nullptr, 0},
    });
    return kRules;
}

struct Match {
    std::vector<std::string> captures;  // value-like single-token captures (diet, number, status…), normalised
    std::string key;                    // the attribute's parameter: species, countable or favourite's thing
    Slot terminal = Slot::kLiteral;     // kLiteral when the pattern has no terminal capture
    std::size_t end = 0;                // terminal: where its value starts; otherwise: first unmatched token
};

std::optional<std::string> parse_number(std::string_view w) {
    if (is_digits(w)) {
        if (w.size() > 3) return std::nullopt;
        return std::to_string(std::stoi(std::string(w)));
    }
    if (const auto it = kNumberWords.find(w); it != kNumberWords.end()) return std::string(it->second);
    const std::size_t dash = w.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    const auto tens = kNumberWords.find(w.substr(0, dash));
    const auto ones = kNumberWords.find(w.substr(dash + 1));
    if (tens == kNumberWords.end() || ones == kNumberWords.end()) return std::nullopt;
    const int t = std::stoi(std::string(tens->second));
    const int o = std::stoi(std::string(ones->second));
    if (t < 20 || t % 10 != 0 || t > 90 || o < 1 || o > 9) return std::nullopt;
    return std::to_string(t + o);
}

// "tv show" → "tv_show"; plural to singular for the simple cases ("movies" → "movie", "hobbies" → "hobby").
std::string normalise_key(const std::vector<std::string>& words) {
    std::string key;
    for (std::size_t i = 0; i < words.size(); ++i) {
        std::string w = words[i];
        if (i + 1 == words.size() && w.size() > 3) {
            if (ends_with(w, "ies") && w != "movies" && w != "cookies" && w != "series" && w != "pies") {
                w = w.substr(0, w.size() - 3) + "y";
            } else if (w.back() == 's' && !ends_with(w, "ss") && !ends_with(w, "us") && !ends_with(w, "is") &&
                       w != "series") {
                w.pop_back();
            }
        }
        if (!key.empty()) key += '_';
        key += w;
    }
    return key;
}

bool match_from(const std::vector<Element>& pattern, std::size_t ei, const std::vector<Token>& t, std::size_t ti,
                Match& m) {
    if (ei == pattern.size()) {
        m.end = ti;
        return true;
    }
    std::size_t tj = ti;
    while (tj < t.size() && t[tj].skippable) ++tj;
    const Element& e = pattern[ei];
    const bool word = tj < t.size() && !t[tj].punct;
    const std::string_view w = word ? std::string_view(t[tj].lower) : std::string_view();
    auto capture_and_continue = [&](std::string value) {
        m.captures.push_back(std::move(value));
        if (match_from(pattern, ei + 1, t, tj + 1, m)) return true;
        m.captures.pop_back();
        return false;
    };
    auto key_and_continue = [&](std::string key, std::size_t next) {
        std::string saved = std::exchange(m.key, std::move(key));
        if (match_from(pattern, ei + 1, t, next, m)) return true;
        m.key = std::move(saved);
        return false;
    };
    switch (e.slot) {
        case Slot::kLiteral:
            return word && e.accepts(w) && match_from(pattern, ei + 1, t, tj + 1, m);
        case Slot::kOptional:
            if (word && e.accepts(w) && match_from(pattern, ei + 1, t, tj + 1, m)) return true;
            return match_from(pattern, ei + 1, t, ti, m);
        case Slot::kSpecies: {
            if (!word) return false;
            const auto it = kSpecies.find(w);
            if (it == kSpecies.end()) return false;
            const bool guinea = it->second == "guinea pig";
            if (guinea && at(t, tj + 1) != "pig") return false;
            return key_and_continue(guinea ? "guinea_pig" : std::string(it->second), tj + (guinea ? 2 : 1));
        }
        case Slot::kDiet: {
            if (!word) return false;
            const auto it = kDiets.find(w);
            return it != kDiets.end() && capture_and_continue(std::string(it->second));
        }
        case Slot::kTransit:
            return word && kTransit.count(w) != 0 && capture_and_continue(std::string(w));
        case Slot::kStatus:
            return word && kRelationshipStatuses.count(w) != 0 && capture_and_continue(std::string(w));
        case Slot::kNumber: {
            if (!word) return false;
            const auto n = parse_number(w);
            return n.has_value() && capture_and_continue(*n);
        }
        case Slot::kCount: {
            if (!word) return false;
            const auto n = w == "no" ? std::optional<std::string>("0") : parse_number(w);
            return n.has_value() && capture_and_continue(*n);
        }
        case Slot::kCountable: {
            if (!word) return false;
            const auto it = kCountables.find(w);
            return it != kCountables.end() && key_and_continue(std::string(it->second), tj + 1);
        }
        case Slot::kKey: {
            std::vector<std::string> words;
            for (std::size_t k = tj; k < t.size() && k < tj + 3 && !t[k].punct; ++k) {
                words.push_back(t[k].lower);
                if (key_and_continue(normalise_key(words), k + 1)) return true;
            }
            return false;
        }
        default:  // terminal
            m.terminal = e.slot;
            m.end = tj;
            return true;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Values.

std::string join_value(const std::vector<const Token*>& words) {
    std::string out;
    for (const Token* w : words) {
        if (w->lower == "'s") {
            out += "'s";
            continue;
        }
        if (!out.empty()) out += ' ';
        out += w->lower;
    }
    return out;
}

bool is_number_token(std::string_view w) {
    return parse_number(w).has_value();
}

// Where a full-cut value starting at `begin` ends.
std::size_t full_cut(const std::vector<Token>& t, std::size_t begin, bool cut_numbers) {
    std::size_t k = begin;
    for (; k < t.size(); ++k) {
        if (t[k].punct || kCutWords.count(t[k].lower) != 0) break;
        if (cut_numbers && k > begin && is_number_token(t[k].lower)) break;
    }
    return k;
}

std::size_t light_cut(const std::vector<Token>& t, std::size_t begin) {
    std::size_t k = begin;
    while (k < t.size() && !t[k].punct && kLightCutWords.count(t[k].lower) == 0) ++k;
    return k;
}

bool is_article(std::string_view w) {
    return w == "a" || w == "an" || w == "the";
}

bool contains_any(const std::vector<const Token*>& words, const WordSet& set) {
    for (const Token* w : words) {
        if (set.count(w->lower) != 0) return true;
    }
    return false;
}

bool all_capitalised(const std::vector<const Token*>& words) {
    for (const Token* w : words) {
        if (!is_capitalised(*w) && !is_digits(w->lower) && w->lower != "'s" && w->lower != "&" && w->lower != "of" &&
            w->lower != "de" && w->lower != "la") {
            return false;
        }
    }
    return true;
}

// The value of a terminal capture starting at `begin`, normalised and checked; nullopt if it fails its check.
std::optional<std::string> terminal_value(Slot kind, const std::vector<Token>& t, std::size_t begin, bool cased) {
    const bool cut_numbers = kind == Slot::kPlace || kind == Slot::kOrg || kind == Slot::kOrgStrict ||
                             kind == Slot::kName || kind == Slot::kJob || kind == Slot::kSchool ||
                             kind == Slot::kSchoolStrict;
    std::size_t end = kind == Slot::kLight ? light_cut(t, begin) : full_cut(t, begin, cut_numbers);
    if (kind == Slot::kPlace && end < t.size() && t[end].lower == "in") {
        // "a small apartment in Boston": the place follows the dwelling.
        bool dwelling = false;
        for (std::size_t k = begin; k < end; ++k) dwelling = dwelling || kDwellings.count(t[k].lower) != 0;
        if (dwelling && end - begin <= 4) {
            begin = end + 1;
            end = full_cut(t, begin, true);
        }
    }
    std::vector<const Token*> words;
    bool had_article = false;
    for (std::size_t k = begin; k < end; ++k) {
        if (words.empty() && is_article(t[k].lower)) {
            had_article = true;
            continue;
        }
        words.push_back(&t[k]);
    }
    if (kind == Slot::kCar || kind == Slot::kPhone) {
        while (!words.empty() && (words.front()->lower == "new" || words.front()->lower == "used" ||
                                  words.front()->lower == "brand" || words.front()->lower == "brand-new")) {
            words.erase(words.begin());
        }
    }
    if (words.empty()) return std::nullopt;
    const std::string_view first = words.front()->lower;
    const std::string_view last = words.back()->lower;
    if (first == "not" || first == "no" || first == "never" || first == "my" || first == "your") {
        if (kind != Slot::kLight && kind != Slot::kFree) return std::nullopt;
    }
    switch (kind) {
        case Slot::kPlace: {
            if (words.size() > 5 || contains_any(words, kNonPlaces) || contains_any(words, kDwellings)) {
                return std::nullopt;
            }
            const bool generic = kGenericPlaces.count(last) != 0;
            if (cased ? !(is_capitalised(*words.front()) || generic) : (kCommonWords.count(first) != 0 && !generic)) {
                return std::nullopt;
            }
            break;
        }
        case Slot::kOrg:
        case Slot::kOrgStrict: {
            if (words.size() > 6) return std::nullopt;
            if (had_article || (!cased && kind == Slot::kOrg && kCommonWords.count(first) != 0)) {
                if (kOrgNouns.count(last) == 0 && !(had_article && cased && all_capitalised(words))) {
                    return std::nullopt;
                }
                if (kind == Slot::kOrgStrict && (last == "gym" || last == "club" || last == "group")) {
                    return std::nullopt;
                }
            } else if (cased) {
                if (!is_capitalised(*words.front())) return std::nullopt;
            } else if (kind == Slot::kOrgStrict) {
                return std::nullopt;
            }
            break;
        }
        case Slot::kJob:
            if (words.size() > 5 || kJobNouns.count(last) == 0 || kNotJobModifiers.count(first) != 0) {
                return std::nullopt;
            }
            break;
        case Slot::kName: {
            if (had_article || words.size() > 3) return std::nullopt;
            if (!cased && words.size() > 2) return std::nullopt;
            for (const Token* w : words) {
                if (kCommonWords.count(w->lower) != 0 || kJobNouns.count(w->lower) != 0 ||
                    kDiets.count(w->lower) != 0 || kTransit.count(w->lower) != 0 ||
                    kVehicleNouns.count(w->lower) != 0 || kNotNames.count(w->lower) != 0) {
                    return std::nullopt;
                }
                for (char c : w->lower) {
                    if (std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
                }
                if (cased && !is_capitalised(*w)) return std::nullopt;
            }
            break;
        }
        case Slot::kFree:
            if (words.size() > 6) return std::nullopt;
            break;
        case Slot::kLight:
            if (words.size() > 8) return std::nullopt;
            break;
        case Slot::kCar:
            if (words.size() > 5) return std::nullopt;
            if (!contains_any(words, kCarWords) && kVehicleNouns.count(last) == 0) return std::nullopt;
            if (words.size() == 1 && last == "car") return std::nullopt;
            break;
        case Slot::kPhone:
            if (words.size() > 5 || kPhoneWords.count(first) == 0) return std::nullopt;
            break;
        case Slot::kSchool:
        case Slot::kSchoolStrict: {
            if (words.size() > 6) return std::nullopt;
            const bool educational = contains_any(words, kEducationNouns);
            if (!educational) {
                if (kind == Slot::kSchoolStrict) return std::nullopt;
                if (cased ? !all_capitalised(words) : kCommonWords.count(first) != 0) return std::nullopt;
            }
            break;
        }
        default:
            return std::nullopt;
    }
    return join_value(words);
}

// What may follow a pattern without a terminal capture: nothing, punctuation, or the start of an adjunct.
bool acceptable_rest(const std::vector<Token>& t, std::size_t k) {
    // Not a following object: "I'm engaged in a project", "I'm 30 in two weeks". ("at" stays an adjunct: "I left my
    // job at Google".)
    static const WordSet kNotAdjuncts = {"in",   "on",   "by",  "about", "like",  "over",    "under",
                                         "into", "that", "who", "which", "where", "through", "without"};
    if (k >= t.size() || t[k].punct) return true;
    return kCutWords.count(t[k].lower) != 0 && kNotAdjuncts.count(t[k].lower) == 0;
}

std::optional<NoteSubject> apply_rules(const std::vector<Rule>& rules, const std::vector<Token>& t, const Holder& h,
                                       bool cased) {
    const bool partner_holder = h.form == Form::kSubject && kPartnerRelations.count(h.relation) != 0;
    for (const Rule& rule : rules) {
        if (h.we && (rule.flags & kAllowWe) == 0) continue;
        if ((rule.flags & kPartnerOnly) != 0 && !partner_holder) continue;
        Match m;
        if (!match_from(rule.elements, 0, t, h.next, m)) continue;
        std::string value;
        if (m.terminal != Slot::kLiteral) {
            auto v = terminal_value(m.terminal, t, m.end, cased);
            if (!v) continue;
            value = std::move(*v);
        } else {
            if (!acceptable_rest(t, m.end)) continue;
            if (rule.fixed_value) {
                value = *rule.fixed_value;
            } else if (!m.captures.empty()) {
                value = m.captures.back();
            } else {
                continue;
            }
        }
        NoteSubject s;
        s.holder = h.holder;
        s.attribute = rule.attribute;
        if (const std::size_t brace = s.attribute.find("{}"); brace != std::string::npos) {
            if (m.key.empty()) continue;
            s.attribute.replace(brace, 2, m.key);
        }
        s.value = std::move(value);
        if ((rule.flags & kPartnerOnly) != 0) {
            s.holder = h.parent;
        } else if (s.attribute == "name" && h.form == Form::kPossessive && kPartnerRelations.count(h.relation) != 0) {
            // "my wife's name is Anna": the user's partner.
            s.holder = h.parent;
            s.attribute = "partner";
        }
        return s;
    }
    return std::nullopt;
}

struct Parsed {
    std::vector<Token> tokens;  // the first sentence, `skippable` set
    std::size_t start = 0;      // after the preamble
    bool cased = false;
};

Parsed parse(std::string_view content) {
    Parsed p;
    p.cased = has_upper(content);
    p.tokens = first_sentence(tokenize(content));
    for (Token& t : p.tokens) t.skippable = kSkippable.count(t.lower) != 0;
    p.start = skip_preamble(p.tokens);
    return p;
}

// "Call me Sam", "You can call me Sam", "Please call me Sam": the index of the name, or npos.
std::size_t call_me_value(const std::vector<Token>& t, std::size_t p) {
    if (at(t, p) == "you" && at(t, p + 1) == "can") p += 2;
    if (at(t, p) == "please" || at(t, p) == "just") ++p;
    if (at(t, p) == "call" && at(t, p + 1) == "me") return p + 2;
    return std::string::npos;
}

}  // namespace

NoteStatement infer_statement(std::string_view content) {
    NoteStatement out;
    const Parsed p = parse(content);
    if (p.start >= p.tokens.size()) return out;
    if (const std::size_t v = call_me_value(p.tokens, p.start); v != std::string::npos) {
        out.holder = "user";
        if (auto name = terminal_value(Slot::kName, p.tokens, v, p.cased)) {
            out.subject = NoteSubject{"user", "name", std::move(*name)};
        }
        return out;
    }
    auto holder = parse_holder(p.tokens, p.start, p.cased);
    if (!holder) return out;
    out.subject =
        apply_rules(holder->form == Form::kSubject ? subject_rules() : possessive_rules(), p.tokens, *holder, p.cased);
    out.holder = std::move(holder->holder);
    return out;
}

std::optional<NoteSubject> infer_subject(std::string_view content) {
    return infer_statement(content).subject;
}

std::optional<std::string> infer_holder(std::string_view content) {
    const Parsed p = parse(content);
    if (p.start >= p.tokens.size()) return std::nullopt;
    if (call_me_value(p.tokens, p.start) != std::string::npos) return std::string("user");
    auto holder = parse_holder(p.tokens, p.start, p.cased);
    if (!holder) return std::nullopt;
    return std::move(holder->holder);
}

}  // namespace kasten::memory
