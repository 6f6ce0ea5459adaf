#include "memory/topic_lexicon.h"

#include <string>
#include <unordered_map>

#include "retrieval/lexical_index.h"

namespace kasten::memory {
namespace {

struct TopicWords {
    std::string_view label;
    std::string_view words;  // space-separated; a word already claimed by an earlier topic keeps that topic
};

// Earlier topics win ties, so the more specific ones come first.
constexpr TopicWords kTopics[] = {
    {"pets",
     "pet pets dog dogs puppy puppies cat cats kitten kittens hamster rabbit bunny parrot budgie goldfish "
     "aquarium vet veterinarian leash litter kennel terrier retriever labrador poodle beagle bulldog shepherd "
     "chihuahua husky tabby tortoise turtle lizard gecko ferret guinea adopted neuter spay"},
    {"family",
     "family mom mum mother dad father parent parents sister sisters brother brothers sibling siblings son "
     "sons daughter daughters kid kids child children baby babies grandma grandmother grandpa grandfather "
     "grandparents grandson granddaughter grandchildren aunt uncle cousin cousins niece nephew wife husband "
     "spouse stepmom stepdad stepson stepdaughter twins toddler newborn in-laws mother-in-law father-in-law "
     "household"},
    {"relationships",
     "friend friends friendship boyfriend girlfriend partner dating married marriage engaged engagement "
     "divorce divorced breakup relationship fiance fiancee anniversary roommate neighbor neighbour crush "
     "colleague colleagues bestie"},
    {"health",
     "health healthy doctor doctors physician hospital clinic sick ill illness disease medication medications "
     "medicine pill pills therapy therapist diagnosis diagnosed symptom symptoms pain injury injured surgery "
     "allergy allergies allergic dentist dental sleep insomnia anxiety depression stress blood pressure "
     "diabetes asthma pregnant pregnancy vitamin vitamins checkup mental migraine headache flu fever covid "
     "vaccine prescription nurse cholesterol cancer recovery knee ankle wrist physiotherapy chiropractor "
     "dermatologist skin acne"},
    {"fitness",
     "gym workout workouts exercise exercising running jog jogging marathon half-marathon 5k 10k yoga pilates "
     "lifting weights cardio hike hiking cycling swim swimming fitness stretching treadmill crossfit trainer "
     "squat squats pushups push-ups calories protein weightlifting bodybuilding zumba"},
    {"sports",
     "sport sports football soccer basketball baseball tennis golf hockey volleyball cricket rugby league "
     "tournament championship coach ski skiing snowboard snowboarding surf surfing climbing bouldering nba nfl "
     "mlb nhl fifa olympics playoffs stadium athlete racket badminton boxing martial karate judo taekwondo "
     "wrestling cyclist"},
    {"food",
     "food foods eat eating ate cook cooking cooked recipe recipes restaurant restaurants cafe coffee espresso "
     "latte tea dinner lunch breakfast brunch meal meals bake baking baked pizza pasta sushi ramen vegetarian "
     "vegan gluten wine beer cocktail cheese chocolate dessert desserts cake cookies bread kitchen chef "
     "cuisine snack snacks grocery groceries fruit fruits vegetable vegetables meat chicken beef pork seafood "
     "salad soup spicy taco tacos burger burgers sandwich noodles rice curry bbq barbecue steak smoothie juice "
     "diet keto paleo dairy lactose flavor flavour taste delicious dish dishes ingredient ingredients bakery "
     "pastry croissant muffin pancakes waffles cereal oatmeal yogurt eggs bagel donut dumplings"},
    {"travel",
     "trip trips travel traveling travelling traveled travelled vacation vacations holiday holidays flight "
     "flights fly flew airport airline hotel hotels hostel airbnb passport visa itinerary tour tours tourist "
     "cruise luggage suitcase packing abroad destination sightseeing beach resort backpacking road-trip "
     "journey layover jetlag souvenir guidebook landmark landmarks international overseas"},
    {"location",
     "city cities town towns country countries state neighborhood neighbourhood downtown suburb suburbs "
     "village address street moved move moving relocate relocated relocating live lived living hometown region "
     "area county province capital coast island mountains located"},
    {"work",
     "job jobs work working worked career office boss manager coworker coworkers company employer employee "
     "salary promotion promoted interview interviews resume cv client clients project projects meeting "
     "meetings business startup hired hire hiring position role intern internship quit fired layoff laid shift "
     "remote workplace team deadline presentation report conference colleague profession professional engineer "
     "nurse teacher lawyer accountant consultant designer developer freelance freelancer contract entrepreneur"},
    {"education",
     "school schools college university class classes degree study studying studied student students teacher "
     "professor exam exams test homework lecture graduate graduation graduated thesis phd masters bachelor "
     "bachelors semester tuition learn learning learned language languages certificate certification "
     "scholarship campus kindergarten highschool tutor tutoring curriculum diploma online-course spanish "
     "french german japanese chinese italian korean"},
    {"music",
     "music song songs band bands concert concerts guitar piano violin drum drums sing singing singer album "
     "albums playlist spotify choir orchestra musician lyrics ukulele cello saxophone jazz rock hip-hop rap "
     "classical opera symphony vinyl karaoke"},
    {"entertainment",
     "movie movies film films series tv television netflix hulu episode episodes book books novel novels "
     "reading author authors game games gaming videogame videogames playstation xbox nintendo theater theatre "
     "comedy podcast podcasts anime manga youtube streaming museum museums art exhibition gallery galleries "
     "documentary sitcom drama fiction fantasy marvel disney cinema broadway musical"},
    {"hobby",
     "hobby hobbies painting paint draw drawing knit knitting crochet sew sewing garden gardening photography "
     "photo photos camera craft crafts crafting pottery ceramics woodworking collect collection collecting "
     "chess puzzle puzzles origami scrapbook scrapbooking calligraphy fishing camping birdwatching volunteer "
     "volunteering baking journaling blog blogging diy lego"},
    {"shopping",
     "buy buying bought purchase purchased shop shopping store stores sale discount coupon brand "
     "brands amazon mall refund gift gifts receipt cart checkout ebay etsy warranty"},
    {"finance",
     "money budget budgeting save saving savings invest investing investment investments stock stocks bank "
     "banking loan loans mortgage debt credit tax taxes income bill bills insurance retirement 401k pay paid "
     "spend spent cost costs expensive cheap dollars crypto bitcoin finance financial payment payments "
     "paycheck expenses price prices afford rent-free fund funds pension"},
    {"tech",
     "computer computers laptop laptops phone phones smartphone iphone android app apps software code coding "
     "programming python javascript java website websites internet wifi tablet ipad device devices gadget "
     "gadgets headphones earbuds printer keyboard monitor server data ai robot battery charger router mac "
     "windows linux macbook smartwatch camera-phone email password upgrade bluetooth"},
    {"home",
     "home house houses apartment apartments flat condo rent rented renting landlord tenant room rooms bedroom "
     "bathroom livingroom furniture sofa couch bed garage yard backyard renovate renovation renovating "
     "decorate decorating decor plant plants houseplants cleaning chores appliance appliances dishwasher "
     "fridge microwave lease"},
    {"transport",
     "car cars drive driving drove vehicle truck motorcycle bus buses subway metro commute commuting uber lyft "
     "taxi bicycle bike parking license traffic tesla toyota honda ford suv sedan electric mileage gas fuel"},
    {"fashion",
     "clothes clothing shirt shirts dress dresses shoes sneakers boots jacket jeans outfit outfits wear "
     "wearing fashion style jewelry necklace earrings bracelet handbag purse wardrobe sweater coat hat"},
    {"social",
     "party parties celebration celebrate celebrated festival festivals reunion gathering ceremony wedding "
     "weddings birthday birthdays christmas thanksgiving halloween easter hanukkah diwali eid holiday-party "
     "bbq-party picnic"},
    {"schedule",
     "appointment appointments schedule scheduled calendar reminder reminders reservation reservations rsvp "
     "agenda routine"},
};

struct Table {
    std::unordered_map<std::string, std::string_view> by_stem;
    std::vector<std::string_view> labels;
};

const Table& table() {
    static const Table t = [] {
        Table built;
        for (const TopicWords& topic : kTopics) {
            built.labels.push_back(topic.label);
            std::string_view words = topic.words;
            while (!words.empty()) {
                const std::size_t space = words.find(' ');
                const std::string_view word = words.substr(0, space);
                words = space == std::string_view::npos ? std::string_view() : words.substr(space + 1);
                if (word.empty()) continue;
                // Hyphenated entries are analysed as their parts; only single-term words enter the table.
                const std::vector<std::string> stems = retrieval::LexicalIndex::analyze(word);
                if (stems.size() == 1) built.by_stem.emplace(stems.front(), topic.label);
            }
        }
        return built;
    }();
    return t;
}

}  // namespace

std::string_view TopicLexicon::topic_of_stem(std::string_view stem) {
    const Table& t = table();
    const auto it = t.by_stem.find(std::string(stem));
    return it == t.by_stem.end() ? std::string_view() : it->second;
}

const std::vector<std::string_view>& TopicLexicon::labels() {
    return table().labels;
}

}  // namespace kasten::memory
