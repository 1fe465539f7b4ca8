#!/usr/bin/env python3
"""ctest step: Conan cannot be installed here, so this loads conanfile.py against a
minimal stand-in for the `conan` module and checks what the recipe would tell Conan:

- set_version() finds the CMake project version;
- its options are exactly the CMake package's optional components;
- generate() configures the library-only build that the port and tests/package use;
- package_info() declares, for each option set, the CMake targets the installed CMake
  package has: trustgate::trustgate always, trustgate::<component> when enabled;
- package_id() makes one package for every setting (header-only);
- validate() accepts a C++20 compiler whose profile names no standard, and refuses
  cppstd 17 and a compiler too old for C++20;
- configure() asks for header-only Boost when the beast component is on.

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


class InvalidConfiguration(Exception):
    pass


class Settings:
    """Stands for self.settings: dotted names, as get_safe() takes them."""

    def __init__(self, **values):
        self.values = values
        self.os = values.get("os")
        self.compiler = values.get("compiler")

    def get_safe(self, name):
        return self.values.get(name)


def check_min_cppstd(conanfile, minimum):
    if int(str(conanfile.settings.get_safe("compiler.cppstd")).lstrip("gnu")) < minimum:
        raise InvalidConfiguration(f"needs C++{minimum}")


class Options(types.SimpleNamespace):
    """Stands for self.options: the recipe's own as attributes, a dependency's by name."""

    def __init__(self, own, dependencies):
        super().__init__(**own)
        self._dependencies = dependencies

    def __getitem__(self, name):
        return self._dependencies[name]


class Info:
    def __init__(self):
        self.cleared = False

    def clear(self):
        self.cleared = True


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
    module("conan.errors", ConanInvalidConfiguration=InvalidConfiguration)
    module("conan.tools")
    module("conan.tools.build", check_min_cppstd=check_min_cppstd)
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
        recipe.settings = Settings(os="Linux")
        recipe.cpp_info = Recorder()
        recipe.package_info()
        declared = sorted(c.properties.get("cmake_target_name") for c in recipe.cpp_info.components.values())
        wanted = sorted(["trustgate::trustgate"] + [f"trustgate::{c}" for c in components if options[c]])
        if declared != wanted:
            problems.append(f"with {options}: package_info() declares {declared}, the CMake package has {wanted}")
        if recipe.cpp_info.properties.get("cmake_file_name") != "trustgate":
            problems.append("package_info(): cmake_file_name must be 'trustgate'")

    recipe.info = Info()
    recipe.package_id()
    if not recipe.info.cleared:
        problems.append("package_id() must clear the settings and options: the package is headers only")

    def validates(**settings):
        recipe.settings = Settings(**settings)
        try:
            recipe.validate()
            return True
        except InvalidConfiguration:
            return False

    if not validates(os="Linux", compiler="gcc", **{"compiler.version": "12"}):
        problems.append("validate() refuses gcc 12 when the profile names no C++ standard")
    if validates(os="Linux", compiler="gcc", **{"compiler.version": "12", "compiler.cppstd": "17"}):
        problems.append("validate() accepts compiler.cppstd=17")
    if not validates(os="Linux", compiler="gcc", **{"compiler.version": "12", "compiler.cppstd": "gnu20"}):
        problems.append("validate() refuses compiler.cppstd=gnu20")
    if validates(os="Linux", compiler="gcc", **{"compiler.version": "9"}):
        problems.append("validate() accepts gcc 9, which has no C++20")

    boost_options = types.SimpleNamespace(header_only=False)
    recipe.options = Options({c: c == "beast" for c in components}, {"boost": boost_options})
    recipe.configure()
    if "beast" in components and not boost_options.header_only:
        problems.append("configure() must ask for header-only Boost with the beast component")

    for problem in problems:
        print(f"conanfile.py: {problem}")
    if not problems:
        print(f"conanfile.py agrees: version {version}, components {components}, {expected_cache}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
