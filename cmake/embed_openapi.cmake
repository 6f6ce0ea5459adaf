# cmake -DINPUT=docs/openapi.json -DOUTPUT=openapi_document.cc -P embed_openapi.cmake
# Writes a C++ source that defines kasten::api::openapi_document() (api/http/openapi_document.h) returning the text
# of INPUT, as a raw string literal. Run at build time (api/CMakeLists.txt), so the server reads no file at run time.
file(READ "${INPUT}" text)
set(delimiter "kasten_openapi")
string(FIND "${text}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${INPUT} contains the raw string delimiter )${delimiter}\"")
endif()
file(WRITE "${OUTPUT}"
     "// Generated from docs/openapi.json by cmake/embed_openapi.cmake: do not edit.\n"
     "#include \"api/http/openapi_document.h\"\n\n"
     "namespace kasten::api {\n\n"
     "std::string_view openapi_document() {\n"
     "    static constexpr char kText[] = R\"${delimiter}(${text})${delimiter}\";\n"
     "    return {kText, sizeof(kText) - 1};\n"
     "}\n\n"
     "}  // namespace kasten::api\n")
