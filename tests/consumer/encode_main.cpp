// An outside program on sentemb::infer: loads a model and encodes two sentences.
//   consumer_encode MODEL.semb
// Exit status 0 when it gets two different unit vectors, 1 otherwise.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "check_vectors.h"
#include "sentemb/encoder.h"
#include "sentemb/errors.h"
#include "sentemb/version.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MODEL.semb\n", argv[0]);
    return 2;
  }
  try {
    sentemb::EncoderOptions options;
    options.threads = 1;
    auto encoder = sentemb::Encoder::load(argv[1], options);
    const auto vectors = encoder.encode({"a child is sleeping", "a cat stares at a kitchen"});
    std::printf("sentemb %s: ", SENTEMB_VERSION);
    return consumer::two_distinct_unit_vectors(vectors, encoder.dim()) ? 0 : 1;
  } catch (const sentemb::Error& e) {
    std::fprintf(stderr, "sentemb error: %s\n", e.what());
    return 1;
  }
}
