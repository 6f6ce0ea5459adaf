#include "api/cli/cli.h"

int main(int argc, char** argv) {
    return kasten::api::run_cli(argc, argv);
}
