#:project ../../src/Kindling/Kindling.csproj
#:property PublishAot=false
#:property EnableTrimAnalyzer=false
#:property TreatWarningsAsErrors=false
// Lists Kindling's public types and members that no test names.
//   dotnet run tools/api-coverage/untested_api.cs [TESTS_DIR]      (default: tests/)
// A type counts as tested when its name appears as an identifier in a test file; a member when its simple name does
// (properties, methods, fields, events; constructors go with their type; operators and compiler-made members are left
// out). Naming is not proving, but a public member no test even names is certainly untested.
using System.Reflection;
using System.Text.RegularExpressions;

var root = Directory.GetCurrentDirectory();
var testsDir = args.Length > 0 ? args[0] : Path.Combine(root, "tests");
var words = new HashSet<string>();
foreach (var f in Directory.EnumerateFiles(testsDir, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains("/obj/") && !f.Contains("/bin/")))
    foreach (Match m in Regex.Matches(File.ReadAllText(f), @"[A-Za-z_][A-Za-z0-9_]*")) words.Add(m.Value);

var asm = typeof(Kindling.Tensor).Assembly;
var types = asm.GetExportedTypes().Where(t => !t.IsNested || t.IsNestedPublic).OrderBy(t => t.FullName).ToList();
static string Simple(string n) => n.Contains('`') ? n[..n.IndexOf('`')] : n;
const BindingFlags Flags = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
var untestedTypes = types.Where(t => !words.Contains(Simple(t.Name))).ToList();
var members = types.SelectMany(t => t.GetMembers(Flags)
        .Where(m => m.MemberType is MemberTypes.Method or MemberTypes.Property or MemberTypes.Field or MemberTypes.Event)
        .Where(m => !(m is MethodInfo mi && (mi.IsSpecialName || mi.Name is "ToString" or "Equals" or "GetHashCode" or "Deconstruct" or "<Clone>$" or "PrintMembers")))
        .Where(m => !(t.IsEnum && m is FieldInfo))
        .Select(m => (Type: t, Name: m.Name)))
    .Distinct().ToList();
var untestedMembers = members.Where(m => !words.Contains(m.Name)).ToList();
Console.WriteLine($"public types never named in {testsDir}: {untestedTypes.Count} of {types.Count}");
foreach (var t in untestedTypes) Console.WriteLine("  " + t.FullName);
Console.WriteLine($"public members never named: {untestedMembers.Count} of {members.Count}");
foreach (var m in untestedMembers) Console.WriteLine($"  {m.Type.Name}.{m.Name}");
