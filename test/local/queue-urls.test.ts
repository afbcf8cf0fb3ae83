/**
 * Queues a user creates on the local stack: fauxqs answers CreateQueue with `http://sqs.<region>.localhost:<port>/…`
 * (its host option only changes the part after `sqs.<region>.`, so it cannot answer a loopback URL). What works, as
 * docs/local-and-cli.md says: the AWS SDK for JavaScript with AWS_ENDPOINT_URL set takes that URL as it is, and any
 * SDK takes the same queue at `<AWS_ENDPOINT_URL>/000000000000/<name>`, which needs no name resolution.
 */
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EmbeddedAws, startEmbeddedAws } from "../../local/embedded-aws";

let aws: EmbeddedAws;
let sqs: SQSClient;
beforeAll(async () => {
  aws = await startEmbeddedAws();
  sqs = new SQSClient({ region: aws.region, endpoint: aws.endpoint, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
});
afterAll(async () => {
  sqs.destroy();
  await aws.close();
});

describe("a queue created on the local stack", () => {
  it("is named at sqs.<region>.localhost by CreateQueue, yet the JavaScript SDK with the printed endpoint uses it as answered", async () => {
    // Act
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "my-workers" }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "as answered" }));
    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));

    // Assess
    expect(new URL(QueueUrl!).hostname).toBe(`sqs.${aws.region}.localhost`);
    expect(Messages.map((m) => m.Body)).toEqual(["as answered"]);
  });

  it("is the same queue at the endpoint's loopback address, for SDKs that send to the queue URL's own host", async () => {
    // Prepare
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "java-workers" }));
    const loopback = `${aws.endpoint}/000000000000/java-workers`;
    // A client that follows the queue URL's host, as the Java and PHP SDKs do.
    const followsQueueUrl = new SQSClient({
      region: aws.region,
      useQueueUrlAsEndpoint: true,
      credentials: { accessKeyId: "l", secretAccessKey: "l" },
    });

    try {
      // Act
      await followsQueueUrl.send(new SendMessageCommand({ QueueUrl: loopback, MessageBody: "at loopback" }));
      const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));

      // Assess
      expect(Messages.map((m) => m.Body)).toEqual(["at loopback"]);
    } finally {
      followsQueueUrl.destroy();
    }
  });
});
