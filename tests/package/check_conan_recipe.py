#!/usr/bin/env python3
"""ctest step: Conan cannot be installed here, so this loads conanfile.py against a
minimal stand-in for the `conan` module and checks what the recipe would tell Conan:

- set_version() finds the CMake project version;
- its options are exactly the CMake package's optional components;
- generate() configures the library-only build that the port and tests/package use;
- package_info() declares, for each option set, the CMake targets the installed CMake
  package has: trustgate::trustgate always, trustgate::<component> when enabled.

    check_conan_recipe.py <source dir> <project version> <component,...> <-DNAME=VALUE,...>
Exits 1 on a mismatch.
"""
import collections
import importlib.util
import itertools
import sys
import types


class Recorder:
    """Stands for a cpp_info (or a component of one): keeps properties and requires."""

    def __init__(self):
        self.properties = {}
        self.requires = []
        self.system_libs = []
        self.components = collections.defaultdict(Recorder)

    def set_property(self, name, value):
        self.properties[name] = value


class Toolchain:
    last = None

    def __init__(self, conanfile):
        self.cache_variables = {}
        Toolchain.last = self

    def generate(self):
        pass


def install_conan_stand_in():
    def module(name, **attributes):
        m = types.ModuleType(name)
        m.__dict__.update(attributes)
        sys.modules[name] = m

    def load(conanfile, path):
        with open(path, encoding="utf-8") as f:
            return f.read()

    def unused(*args, **kwargs):
        raise AssertionError("not expected while checking the recipe")

    module("conan", ConanFile=object)
    module("conan.tools")
    module("conan.tools.build", check_min_cppstd=unused)
    module("conan.tools.cmake", CMake=unused, CMakeToolchain=Toolchain, cmake_layout=unused)
    module("conan.tools.files", copy=unused, load=load, rmdir=unused)


def main():
    source_dir, version, components, build_options = sys.argv[1:5]
    components = components.split(",")
    expected_cache = dict(option[2:].split("=", 1) for option in build_options.split(","))

    install_conan_stand_in()
    spec = importlib.util.spec_from_file_location("trustgate_recipe", f"{source_dir}/conanfile.py")
    recipe_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe_module)
    Recipe = recipe_module.TrustgateConan

    problems = []
    recipe = Recipe()
    recipe.recipe_folder = source_dir
    recipe.set_version()
    if recipe.version != version:
        problems.append(f"set_version() gives {recipe.version}, CMakeLists.txt says {version}")

    if sorted(Recipe.options) != sorted(components):
        problems.append(f"options {sorted(Recipe.options)} are not the components {sorted(components)}")

    recipe.generate()
    if Toolchain.last.cache_variables != expected_cache:
        problems.append(f"generate() sets {Toolchain.last.cache_variables}, the install uses {expected_cache}")

    for enabled in itertools.product([False, True], repeat=len(components)):
        options = dict(zip(components, enabled))
        recipe.options = types.SimpleNamespace(**options)
        recipe.settings = types.SimpleNamespace(os="Linux")
        recipe.cpp_info = Recorder()
        recipe.package_info()
        declared = sorted(c.properties.get("cmake_target_name") for c in recipe.cpp_info.components.values())
        wanted = sorted(["trustgate::trustgate"] + [f"trustgate::{c}" for c in components if options[c]])
        if declared != wanted:
            problems.append(f"with {options}: package_info() declares {declared}, the CMake package has {wanted}")
        if recipe.cpp_info.properties.get("cmake_file_name") != "trustgate":
            problems.append("package_info(): cmake_file_name must be 'trustgate'")

    for problem in problems:
        print(f"conanfile.py: {problem}")
    if not problems:
        print(f"conanfile.py agrees: version {version}, components {components}, {expected_cache}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
