#include "eval/longmemeval_reader.h"

namespace kasten::eval {

LongMemEvalReader::LongMemEvalReader(std::unique_ptr<JsonArrayReader> array) : array_(std::move(array)) {}

Result<std::unique_ptr<LongMemEvalReader>> LongMemEvalReader::open(const std::string& path) {
    KASTEN_ASSIGN_OR_RETURN(auto array, JsonArrayReader::open(path));
    return std::make_unique<LongMemEvalReader>(std::move(array));
}

std::unique_ptr<LongMemEvalReader> LongMemEvalReader::from_stream(std::unique_ptr<std::istream> in, std::string name) {
    return std::make_unique<LongMemEvalReader>(std::make_unique<JsonArrayReader>(std::move(in), std::move(name)));
}

Result<std::optional<LongMemEvalElement>> LongMemEvalReader::next_element() {
    std::int64_t index = array_->elements();
    KASTEN_ASSIGN_OR_RETURN(auto text, array_->next());
    if (!text) return std::optional<LongMemEvalElement>{};
    return std::optional<LongMemEvalElement>{LongMemEvalElement{index, std::move(*text)}};
}

Result<std::optional<LongMemEvalQuestion>> LongMemEvalReader::next() {
    KASTEN_ASSIGN_OR_RETURN(auto element, next_element());
    if (!element) return std::optional<LongMemEvalQuestion>{};
    KASTEN_ASSIGN_OR_RETURN(auto question, parse_longmemeval_question(element->text, element->index));
    return std::optional<LongMemEvalQuestion>{std::move(question)};
}

}  // namespace kasten::eval
