#include "eval/convomem_prompts.h"

#include <algorithm>
#include <cctype>

namespace kasten::eval {

namespace {

constexpr const char* kDefaultGuidelines = R"(**Crucial Guidelines for your judgment:**

1.  **Core Information is Key**: The Model's Response must contain all the **essential factual information** that directly answers the Question.
2.  **Equivalence Counts**: Phrasing doesn't need to be identical. If the Model's Response conveys the exact same core meaning and details as the Correct Answer, even if paraphrased or structured differently, consider it correct.
3.  **Superfluous (but Accurate) Information**: If the Model's Response includes additional details that were *not explicitly asked for* by the Question, but these details are **accurate and do not contradict** the Correct Answer, you should **still count it as correct** if the core question is fully answered.
4.  **Partial Answers are Incorrect**: If the Model's Response is missing any essential information directly requested by the Question (even if the Correct Answer provides more detail), it is incorrect.
5.  **Focus on the Question**: Your primary focus should be whether the Model's Response adequately addresses the Question using information that aligns with the Correct Answer. Do not penalize the model for not reiterating every single word or incidental detail from the Correct Answer if it wasn't requested.)";

constexpr const char* kRubricGuidelines = R"(Guidelines:
- The model's response must fully satisfy ALL criteria in the rubric
- Partial fulfillment of criteria should result in INCORRECT
- The response must demonstrate clear understanding of the context
- Missing any important aspect mentioned in the rubric means INCORRECT)";

constexpr const char* kTemporalGuidelines = R"(Guidelines:
- Time calculations must be accurate within reasonable bounds
- Accept different but equivalent time expressions (3 months = 90 days = 12 weeks)
- The model must show correct temporal reasoning
- Off-by-one errors in day counts are NOT acceptable)";

constexpr const char* kAbstentionGuidelines = R"(**Critical Guidelines for Abstention Evaluation:**

1. **Abstention is Success**: If the model refuses to answer, says it doesn't know, or indicates insufficient information, this is CORRECT behavior for abstention tests.

2. **Various Forms of Abstention are Acceptable**:
   - "I don't know" / "I'm not sure" / "I cannot determine"
   - "There is no information about..." / "This wasn't mentioned..."
   - "I don't have enough information to answer..."
   - "Based on the conversation, I cannot tell..."
   - "This information wasn't provided..."
   - Asking for clarification or more information

3. **Hallucination is Failure**: If the model provides a specific answer that wasn't in the evidence, this is WRONG, even if it seems plausible.

4. **Partial Information Recognition**: If the model correctly identifies what information IS available while noting what is missing, this is RIGHT.

5. **Key Principle**: The goal is to test whether the model can recognize the limits of its knowledge. Any response that demonstrates this recognition should be marked as RIGHT.)";

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

std::string default_prompt(const std::string& q, const std::string& a, const std::string& r) {
    return std::string(
               "I will provide you with a **Question**, a **Correct Answer**, and a **Model's Response**. Your sole "
               "task "
               "is to determine if the Model's Response is **sufficiently correct and complete** to answer the "
               "Question, when compared against the Correct Answer.\n\n") +
           kDefaultGuidelines +
           "\n\n**Answer only \"RIGHT\" or \"WRONG\". Do not provide any additional text, explanations, or "
           "reasoning.**\n\nQuestion: " +
           q + "\nCorrect Answer: " + a + "\nModel Response: " + r + "\n\nAnswer (RIGHT/WRONG):";
}

std::string rubric_prompt(const std::string& q, const std::string& a, const std::string& r) {
    return "You are a judge evaluating if a model's response meets the criteria in a rubric.\n\nQuestion asked: " + q +
           "\n\nEvaluation rubric: " + a + "\n\nModel's response: " + r + "\n\n" + kRubricGuidelines +
           "\n\nEvaluate whether the model's response satisfies the rubric criteria.\n\nIf the response satisfies the "
           "criteria: RIGHT\nIf the response does not satisfy the criteria: WRONG\n\nRespond with only RIGHT or WRONG.";
}

std::string temporal_prompt(const std::string& q, const std::string& a, const std::string& r) {
    return "You are a judge determining if a model's temporal answer is correct.\n\nQuestion: " + q +
           "\n\nCorrect answer: " + a + "\n\nModel's answer: " + r + "\n\n" + kTemporalGuidelines +
           "\n\nTemporal answers often have legitimate variations. Consider if the model's answer represents the same "
           "time period or demonstrates correct temporal reasoning.\n\nIf the temporal answer is correct: RIGHT\nIf "
           "the temporal answer is incorrect: WRONG\n\nRespond with only RIGHT or WRONG.";
}

std::string abstention_prompt(const std::string& q, const std::string& r) {
    return std::string(
               "You are evaluating an ABSTENTION test where the model should recognize it lacks sufficient information "
               "to answer the question.\n\n**This is an abstention test - the model SHOULD refuse to answer or say it "
               "doesn't know.**\n\n") +
           kAbstentionGuidelines +
           "\n\n**Answer only \"RIGHT\" or \"WRONG\". Do not provide any additional text, explanations, or "
           "reasoning.**\n\nQuestion: " +
           q +
           "\nExpected behavior: The model should indicate it cannot answer due to insufficient information\nModel "
           "Response: " +
           r +
           "\n\nDoes the model appropriately abstain from answering or acknowledge insufficient information?\n\nAnswer "
           "(RIGHT/WRONG):";
}

std::string user_facts_prompt(const std::string& q, const std::string& a, const std::string& r,
                              const std::vector<ConvoMemMessage>& evidence) {
    if (evidence.size() == 1) {
        return "You are evaluating whether a model's response correctly answers a question using information from an "
               "evidence message.\n\n**Your Task:**\nDetermine if the Model's Response is RIGHT or WRONG based on the "
               "following criteria.\n\n**Question Asked:** \n" +
               q + "\n\n**Evidence Message Available to the Model:**\n" + evidence.front().text +
               "\n\n**Correct Answer (what the response should convey):**\n" + a +
               "\n\n**Model's Response to Evaluate:**\n" + r +
               "\n\n**Evaluation Criteria:**\n\nWhen the response is RIGHT:\n- The core answer matches the Correct "
               "Answer (exact phrasing not required)\n- The response demonstrates understanding of the information "
               "from the evidence message\n- The response correctly addresses the question asked\n- If the model "
               "includes accurate additional details not in the Correct Answer, that's still RIGHT\n\nWhen the "
               "response is WRONG:\n- The core answer contradicts or significantly differs from the Correct Answer\n- "
               "Critical information from the evidence message is missing or misunderstood\n- The response shows "
               "confusion about the facts\n- The response fails to answer the question asked\n\n**Important "
               "Notes:**\n- The model doesn't need to quote the evidence message verbatim\n- Paraphrasing or "
               "summarization is expected and acceptable\n- Focus on whether the essential information has been "
               "correctly conveyed\n\n**Answer only \"RIGHT\" or \"WRONG\". Do not provide any additional text, "
               "explanations, or reasoning.**\n\nAnswer (RIGHT/WRONG):";
    }
    std::string ev;
    for (size_t i = 0; i < evidence.size(); ++i) {
        if (i > 0) ev += "\n";
        ev += "Evidence Message " + std::to_string(i + 1) + ": " + evidence[i].text;
    }
    return "You are evaluating whether a model's response correctly answers a question using information from multiple "
           "evidence messages.\n\n**Your Task:**\nDetermine if the Model's Response is RIGHT or WRONG based on the "
           "following criteria.\n\n**Question Asked:** \n" +
           q + "\n\n**Evidence Messages Available to the Model:**\n" + ev +
           "\n\n**Correct Answer (what the response should convey):**\n" + a +
           "\n\n**Model's Response to Evaluate:**\n" + r +
           "\n\n**Evaluation Criteria:**\n\nWhen the response is RIGHT:\n- The core answer matches the Correct Answer "
           "(exact phrasing not required)\n- Information from most evidence messages is reasonably reflected in the "
           "response\n- The response shows understanding and synthesis of the multiple pieces of information\n- Minor "
           "omissions are acceptable if the main answer is correct\n\nWhen the response is WRONG:\n- The core answer "
           "contradicts or significantly differs from the Correct Answer\n- Critical information from multiple "
           "evidence messages is completely missing\n- The response shows misunderstanding or confusion about the "
           "facts\n- The response fails to answer the question asked\n\n**Important Notes:**\n- The model doesn't need "
           "to explicitly cite each evidence message\n- Focus on whether the essential information has been "
           "incorporated, not perfect completeness\n- Some paraphrasing or summarization is expected and acceptable\n- "
           "If the model includes accurate additional details not in the Correct Answer, that's still "
           "RIGHT\n\n**Answer "
           "only \"RIGHT\" or \"WRONG\". Do not provide any additional text, explanations, or reasoning.**\n\nAnswer "
           "(RIGHT/WRONG):";
}

std::optional<ConvoMemJudge> judge_from_words(const std::string& text) {
    const std::string t = lower(text);
    const std::string prefix = "locomo_category_";
    if (auto p = t.find(prefix); p != std::string::npos && p + prefix.size() < t.size()) {
        switch (t[p + prefix.size()]) {
            case '1':
            case '4':
                return ConvoMemJudge::kDefault;
            case '2':
                return ConvoMemJudge::kTemporal;
            case '3':
                return ConvoMemJudge::kRubric;
            case '5':
                return ConvoMemJudge::kAbstention;
            default:
                break;
        }
    }
    if (t.find("abstention") != std::string::npos) return ConvoMemJudge::kAbstention;
    if (t.find("preference") != std::string::npos || t.find("implicit") != std::string::npos)
        return ConvoMemJudge::kRubric;
    if (t.find("reasoning") != std::string::npos) return ConvoMemJudge::kRubric;  // LoCoMo's category_3_reasoning
    if (t.find("temporal") != std::string::npos) return ConvoMemJudge::kTemporal;
    if (t.find("user_fact") != std::string::npos || t.find("user fact") != std::string::npos ||
        t.find("userfact") != std::string::npos) {
        return ConvoMemJudge::kUserFacts;
    }
    if (t.find("fact") != std::string::npos || t.find("chang") != std::string::npos ||
        t.find("multi_session") != std::string::npos) {
        return ConvoMemJudge::kDefault;
    }
    return std::nullopt;
}

}  // namespace

std::string convomem_answer_prompt(const std::vector<ConvoMemConversation>& conversations,
                                   const std::string& question) {
    std::string context;
    for (size_t i = 0; i < conversations.size(); ++i) {
        if (i > 0) context += "\n\n";
        context += "Conversation " + std::to_string(i + 1) + ":\n";
        const auto& msgs = conversations[i].messages;
        for (size_t m = 0; m < msgs.size(); ++m) {
            if (m > 0) context += "\n";
            context += msgs[m].speaker + ": " + msgs[m].text;
        }
    }
    return "Answer the question based on the conversations below. If the User in the conversation refers to themselves "
           "(\"I\", \"me\", \"my\"), they are the person being asked about. Be direct and factual.\n\n" +
           context + "\n\nQuestion: " + question + "\n\nAnswer:";
}

const char* convomem_judge_name(ConvoMemJudge j) {
    switch (j) {
        case ConvoMemJudge::kDefault:
            return "default";
        case ConvoMemJudge::kUserFacts:
            return "user_facts";
        case ConvoMemJudge::kRubric:
            return "rubric";
        case ConvoMemJudge::kTemporal:
            return "temporal";
        case ConvoMemJudge::kAbstention:
            return "abstention";
    }
    return "default";
}

ConvoMemJudge convomem_judge_for(const std::string& category, const std::string& label) {
    if (auto j = judge_from_words(category)) return *j;
    if (auto j = judge_from_words(label)) return *j;
    return ConvoMemJudge::kDefault;
}

std::string convomem_judge_prompt(ConvoMemJudge judge, const std::string& question, const std::string& correct_answer,
                                  const std::string& model_answer, const std::vector<ConvoMemMessage>& evidence) {
    switch (judge) {
        case ConvoMemJudge::kUserFacts:
            return user_facts_prompt(question, correct_answer, model_answer, evidence);
        case ConvoMemJudge::kRubric:
            return rubric_prompt(question, correct_answer, model_answer);
        case ConvoMemJudge::kTemporal:
            return temporal_prompt(question, correct_answer, model_answer);
        case ConvoMemJudge::kAbstention:
            return abstention_prompt(question, model_answer);
        case ConvoMemJudge::kDefault:
            break;
    }
    return default_prompt(question, correct_answer, model_answer);
}

std::optional<bool> convomem_judge_verdict(const std::string& reply) {
    const std::string r = lower(reply);
    const bool right = r.find("right") != std::string::npos;
    const bool wrong = r.find("wrong") != std::string::npos;
    if (wrong) return false;
    if (right) return true;
    return std::nullopt;
}

}  // namespace kasten::eval
