using System.Text.Json.Nodes;
using Kindling.Parity;

// kindling parity tool: computes every case of a loss-case file (shared/parity/loss-cases.md) with Kindling.
//   dotnet run -c Release --project tools/Kindling.Parity -- CASES.jsonl RESULTS.jsonl [--check]
// --check also judges each result against the case's expected values and prints a summary (exit 1 on failures).
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Kindling.Parity CASES.jsonl RESULTS.jsonl [--check]");
    return 2;
}
bool check = args.Contains("--check");
int pass = 0, fail = 0;
using (var outFile = new StreamWriter(args[1] + ".tmp"))
{
    foreach (var line in File.ReadLines(args[0]))
    {
        if (string.IsNullOrWhiteSpace(line)) continue;
        JsonObject c;
        try { c = JsonNode.Parse(line)!.AsObject(); }
        catch (Exception e) { outFile.WriteLine(new JsonObject { ["id"] = null, ["error"] = $"parity: unreadable case line: {e.Message}" }.ToJsonString()); continue; }
        var r = ParityRunner.Run(c);
        outFile.WriteLine(r.ToJsonString(ParityRunner.Json));
        if (check && c["expected"] != null)
        {
            var why = ParityRunner.Judge(c, r);
            if (why == null) pass++;
            else { fail++; Console.WriteLine($"FAIL {c["id"]}: {why}"); }
        }
    }
}
File.Move(args[1] + ".tmp", args[1], overwrite: true);
if (check) Console.WriteLine($"{pass} passed, {fail} failed");
return check && fail > 0 ? 1 : 0;
