using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json.Nodes;
using System.Xml.Linq;

namespace Kindling.Tests;

/// <summary>
/// The packed library works from outside the repository: <c>dotnet pack</c> to a folder, a fresh console project that
/// runs <c>dotnet add package Kindling --source &lt;folder&gt;</c>, trains README's example, and gets the GC settings.
/// </summary>
public class PackageTests
{
    private static readonly string Config = AppContext.BaseDirectory.Contains("/Release/") ? "Release" : "Debug";

    private static (int Code, string Output) Dotnet(string workDir, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var o = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(300_000)) { p.Kill(true); throw new TimeoutException("dotnet " + string.Join(' ', args)); }
        return (p.ExitCode, o.Result + err.Result);
    }

    [Fact]
    public void PackedLibraryTrainsFromAnOutsideProjectWithTheGcSettings()
    {
        var root = Directory.CreateTempSubdirectory("kindling-package-");
        // A version of its own, so the global packages folder never serves a stale copy from an earlier run.
        string version = "0.1.0-test" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff");
        string globalCopy = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"), "kindling", version);
        try
        {
            var feed = Path.Combine(root.FullName, "feed");
            // The library is already built by the test run: pack it without building again.
            var pack = Dotnet(Repo.Root, "pack", Path.Combine("src", "Kindling", "Kindling.csproj"), "-c", Config, "--no-build", "-o", feed, "-p:PackageVersion=" + version);
            Assert.True(pack.Code == 0, pack.Output);

            // What the package holds: the library, its XML docs, readme, licence, GC settings, and a symbols package.
            using (var nupkg = ZipFile.OpenRead(Path.Combine(feed, $"Kindling.{version}.nupkg")))
            {
                var names = nupkg.Entries.Select(e => e.FullName).ToHashSet();
                foreach (var n in new[] { "lib/net10.0/Kindling.dll", "lib/net10.0/Kindling.xml", "README.md", "LICENSE", "buildTransitive/Kindling.props", "buildTransitive/Kindling.targets" })
                    Assert.True(names.Contains(n), $"{n} is missing from the package: {string.Join(", ", names)}");
                XNamespace ns = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd";
                using var s = nupkg.GetEntry("Kindling.nuspec")!.Open();
                var meta = XDocument.Load(s).Root!.Element(ns + "metadata")!;
                Assert.Equal("MIT", meta.Element(ns + "license")!.Value);
                Assert.Equal("README.md", meta.Element(ns + "readme")!.Value);
                Assert.Equal("git", meta.Element(ns + "repository")!.Attribute("type")!.Value);
            }
            Assert.True(File.Exists(Path.Combine(feed, $"Kindling.{version}.snupkg")));

            // An application outside the repository (no Directory.Build.* applies to it).
            var app = Path.Combine(root.FullName, "app");
            Directory.CreateDirectory(app);
            File.WriteAllText(Path.Combine(app, "app.csproj"), """
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                  </PropertyGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), """
                using Kindling; using Kindling.Data; using Kindling.NN; using Kindling.Optim;

                var data = Datasets.Digits();
                var x = Standardize.Fit(data.Features).Transform(data.Features);
                var model = new Sequential(new Linear(64, 128, generator: new Generator(1)), new ReLU(), new Linear(128, 10, generator: new Generator(2)));
                var lossFn = new CrossEntropyLoss(labelSmoothing: 0.05);
                var opt = new Adam(model.Parameters(), lr: 1e-3);
                var loader = new DataLoader(new TensorDataset(x, data.Targets), batchSize: 64, shuffle: true, generator: new Generator(0));
                for (int epoch = 0; epoch < 5; epoch++)
                    foreach (var (xb, yb) in loader)
                    {
                        opt.ZeroGrad();
                        lossFn.Call(model.Call(xb), yb).Backward();
                        opt.Step();
                    }
                using (Autograd.NoGrad())
                    Console.WriteLine($"accuracy {model.Call(x).ArgMax(1).Eq(data.Targets).ToFloat32().Mean().Item():F4}");
                Console.WriteLine($"latency {System.Runtime.GCSettings.LatencyMode}");
                """);
            var add = Dotnet(app, "add", "package", "Kindling", "--version", version, "--source", feed);
            Assert.True(add.Code == 0, add.Output);
            var run = Dotnet(app, "run", "-c", "Release", "--no-restore"); // add package restored it
            Assert.True(run.Code == 0, run.Output);
            var accuracy = double.Parse(run.Output.Split('\n').First(l => l.StartsWith("accuracy ", StringComparison.Ordinal))[9..], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(accuracy > 0.95, $"training accuracy {accuracy} after 5 epochs of README's example");
            // Non-concurrent GC shows at run time as the Batch latency mode (Interactive when concurrent GC is on).
            Assert.Contains("latency Batch", run.Output);

            var rc = JsonNode.Parse(File.ReadAllText(Path.Combine(app, "bin", "Release", "net10.0", "app.runtimeconfig.json")))!["runtimeOptions"]!["configProperties"]!;
            Assert.Equal(67108864, rc["System.GC.LOHThreshold"]!.GetValue<long>());
            Assert.True(rc["System.GC.RetainVM"]!.GetValue<bool>());
            Assert.False(rc["System.GC.Concurrent"]!.GetValue<bool>());
        }
        finally
        {
            root.Delete(true);
            if (Directory.Exists(globalCopy)) Directory.Delete(globalCopy, true);
        }
    }
}
