#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kasten::memory {

// What a note states, when it states one value of a single-valued personal attribute that changes over time: a new
// value replaces the old one (Mem0/Zep knowledge updates). "I moved to Denver last month (2023-05)" →
// {"user", "residence", "denver"}.
struct NoteSubject {
    // Whose attribute: "user" (first person, "we", "the user"), "user's sister" ("my sister", "the user's sister";
    // relations keep their modifiers: "user's older sister"), or a lower-case name ("Alice lives in Paris" ->
    // "alice").
    std::string holder;
    // One of: residence, hometown, birthplace, employer, job_title, relationship_status, partner, pet:<species>
    // (dog, cat, …), car, phone, phone_number, favorite:<thing> (spaces as '_': favorite:tv_show), name, school,
    // hobby, commute, diet, age, birthday, count:<things> (kids, pets, dogs, …).
    std::string attribute;
    // Normalised value: lower-case, single spaces, leading articles dropped, cut before trailing adjuncts
    // ("last month", "since 2019", "because …", "with my wife", …). Numbers (age, counts) as decimal digits.
    // "" means the attribute ended (employer after "I left my job", "I got laid off", "I retired").
    std::string value;

    bool operator==(const NoteSubject&) const = default;
};

// The subject of `content` (one self-contained sentence; only its first sentence is read), or nullopt when no
// pattern of the lexicon matches with confidence. Conservative by design: questions, negations ("I don't live in
// Boston"), plans and wishes ("I want to move to Denver"), past states ("I used to live in Boston"), and values that
// fail the attribute's check ("I live for the weekends", "I'm a bit tired", "I work at night") give nullopt.
// Bracketed dates ("(2023-05)", "(2023-05-16)") are ignored. When the text has any upper-case letter, names and
// places must be capitalised ("I joined Google", not "I joined a gym"). Pure and thread-safe; any UTF-8 is valid.
std::optional<NoteSubject> infer_subject(std::string_view content);

// Whose statement `content` is, by its grammatical subject, in NoteSubject::holder's vocabulary ("I don't like
// sushi anymore" → "user", "My sister doesn't eat meat" → "user's sister"); nullopt when the sentence does not
// start with a recognisable holder. Pure and thread-safe.
std::optional<std::string> infer_holder(std::string_view content);

// What infer_subject() and infer_holder() read from one text.
struct NoteStatement {
    std::optional<NoteSubject> subject;  // infer_subject(content)
    std::optional<std::string> holder;   // infer_holder(content)
};

// {infer_subject(content), infer_holder(content)}, reading the text once: for callers that need both (about half
// the cost of the two calls). Pure and thread-safe.
NoteStatement infer_statement(std::string_view content);

}  // namespace kasten::memory
