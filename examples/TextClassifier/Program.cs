using System.IO.Compression;
using Kindling;
using Kindling.Data.Text;
using Kindling.NN;
using Kindling.Optim;

// Text classification with a bag of embeddings (EmbeddingBag mean + Linear, fastText's shape) on the SMS Spam
// Collection (5,574 messages, CC BY 4.0): the vocabulary is fitted on the training messages only, and the held-out
// accuracy is printed beside the majority class's, which is what a classifier must beat.
//   dotnet run --project examples/TextClassifier -c Release [epochs]
int epochs = args.Length > 0 ? int.Parse(args[0]) : 10;
var r = TextClassifier.Run(epochs);
Console.WriteLine($"held-out accuracy {r.Accuracy:P2} (majority class 'ham': {r.Majority:P2}); spam recall {r.SpamRecall:P1}, precision {r.SpamPrecision:P1}; vocabulary {r.Vocabulary:N0} words");

public sealed record TextClassifierResult(double Accuracy, double Majority, double SpamRecall, double SpamPrecision, int Vocabulary);

public sealed class BagOfEmbeddings : Module
{
    private readonly EmbeddingBag _bag;
    private readonly Linear _fc;

    public BagOfEmbeddings(int vocab, int dim, int classes, Generator g)
    {
        _bag = RegisterModule("embedding", new EmbeddingBag(vocab, dim, EmbeddingBagMode.Mean, paddingIdx: WordVocabulary.PadId, generator: g));
        _fc = RegisterModule("fc", new Linear(dim, classes, generator: g));
    }

    /// <summary>Logits (B, classes) for the flat ids of B messages and where each starts.</summary>
    public Tensor Forward(Tensor ids, Tensor offsets) => _fc.Call(_bag.Forward(ids, offsets));
}

public static class TextClassifier
{
    public static TextClassifierResult Run(int epochs, int dim = 32)
    {
        var rows = Load(Path.Combine(AppContext.BaseDirectory, "sms_spam.tsv.gz"));
        var order = Enumerable.Range(0, rows.Count).ToArray();
        new Random(0).Shuffle(order);
        int nTest = rows.Count / 5;
        var test = order[..nTest].Select(i => rows[i]).ToList();
        var train = order[nTest..].Select(i => rows[i]).ToList();

        var vocab = WordVocabulary.Fit(train.Select(r => r.Text), minCount: 2);       // training messages only
        var trainData = new TextClassificationData(train.Select(r => r.Text).ToList(), train.Select(r => r.Label).ToList(), 2, vocab);
        var testData = new TextClassificationData(test.Select(r => r.Text).ToList(), test.Select(r => r.Label).ToList(), 2, vocab);

        var g = new Generator(1);
        var model = new BagOfEmbeddings(vocab.VocabSize, dim, 2, g);
        var opt = new Adam(model.Parameters(), lr: 1e-2);
        for (int epoch = 0; epoch < epochs; epoch++)
            foreach (var batch in trainData.BatchIndices(32, g))
            {
                var (ids, offsets, labels) = trainData.CollateBags(batch);
                var loss = Functional.CrossEntropy(model.Forward(ids, offsets), labels);
                opt.ZeroGrad();
                loss.Backward();
                opt.Step();
            }

        model.Eval();
        int correct = 0, tp = 0, fp = 0, fn = 0;
        using (Autograd.NoGrad())
            foreach (var batch in testData.BatchIndices(256))
            {
                var (ids, offsets, labels) = testData.CollateBags(batch);
                var pred = model.Forward(ids, offsets).ArgMax(1).ToInt64Array();
                var truth = labels.ToInt64Array();
                for (int i = 0; i < pred.Length; i++)
                {
                    if (pred[i] == truth[i]) correct++;
                    if (pred[i] == 1 && truth[i] == 1) tp++;
                    if (pred[i] == 1 && truth[i] == 0) fp++;
                    if (pred[i] == 0 && truth[i] == 1) fn++;
                }
            }
        double majority = test.Count(r => r.Label == 0) / (double)test.Count;
        return new TextClassifierResult(correct / (double)test.Count, majority, tp / (double)Math.Max(1, tp + fn), tp / (double)Math.Max(1, tp + fp), vocab.VocabSize);
    }

    private static List<(string Text, long Label)> Load(string path)
    {
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new StreamReader(gz);
        var rows = new List<(string, long)>();
        reader.ReadLine();  // header
        while (reader.ReadLine() is { } line)
        {
            int tab = line.IndexOf('\t');
            rows.Add((line[(tab + 1)..], line[..tab] == "spam" ? 1 : 0));
        }
        return rows;
    }
}
