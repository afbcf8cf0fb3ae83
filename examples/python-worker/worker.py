"""A tool worker for tool-output-relay in Python (boto3), written from docs/contract.md and schemas/.

It long-polls its own SQS queue, subscribed to the relay's results topic with raw delivery and a filter on
`*.requires_action` (see docs/contract.md, "Writing a tool worker"), runs a handler per tool name, and sends
`{ **event["reply"], "tool_outputs": [...] }` to the relay's input queue: the same code for the Assistants,
Responses and Agents APIs. A failed tool is an `error` for the Agents API, an output saying so for the others.

    WORKER_QUEUE_URL=... INPUT_QUEUE_URL=... python3 worker.py          # the worker (needs boto3)
    python3 worker.py --answer < events.jsonl                            # events in, answers out (stdlib only)
"""

import json
import os
import sys
from collections import OrderedDict

MAX_ERROR_CHARACTERS = 4096


def get_weather(args):
    return json.dumps({"city": args.get("city", "?"), "temperature_c": 21}, separators=(",", ":"))


def lookup_order(args):
    raise RuntimeError("order service timed out")


HANDLERS = {"get_weather": get_weather, "lookup_order": lookup_order}


def read_event(body):
    """A results event from a queue message body: raw delivery, or an SNS envelope around it."""
    event = json.loads(body)
    if event.get("Type") == "Notification" and isinstance(event.get("Message"), str):
        event = json.loads(event["Message"])
    return event


def asks_for_tools(event):
    return event.get("type", "").endswith(".requires_action") and len(event.get("tool_calls") or []) > 0


def run_call(call):
    """(call id, output) or (call id, None, error) for one tool call."""
    name = call["function"]["name"]
    handler = HANDLERS.get(name)
    if handler is None:
        return {"id": call["id"], "error": "no handler for tool " + name}
    try:
        args = json.loads(call["function"]["arguments"] or "{}")
    except ValueError:
        args = {}
    try:
        return {"id": call["id"], "output": handler(args)}
    except Exception as error:  # the tool's failure is reported, not raised: the turn must not wait for it
        return {"id": call["id"], "error": str(error) or "the tool failed"}


def output_item(result, api):
    if "output" in result:
        return {"tool_call_id": result["id"], "output": result["output"]}
    if api == "agents":
        return {"tool_call_id": result["id"], "error": result["error"][:MAX_ERROR_CHARACTERS]}
    return {"tool_call_id": result["id"], "output": json.dumps({"error": result["error"]}, separators=(",", ":"))}


def answers_for(event, results, collect=False):
    """The input messages answering an event: its reply ids, the outputs, its metadata (only when it has some)."""
    def message(items):
        body = dict(event["reply"])
        body["tool_outputs"] = [output_item(result, event["api"]) for result in items]
        if event.get("metadata"):
            body["metadata"] = event["metadata"]
        if collect:
            body["collect"] = True
        return body

    if not results:
        return []
    return [message([result]) for result in results] if collect else [message(results)]


def message_group(reply):
    for field in ("thread_id", "session_id", "conversation_id", "response_id"):
        if field in reply:
            return reply[field]
    return "tool-output-relay"


def serve():
    import boto3  # only the worker itself needs it; --answer runs with the standard library alone

    sqs = boto3.client("sqs")
    worker_queue = os.environ["WORKER_QUEUE_URL"]
    input_queue = os.environ["INPUT_QUEUE_URL"]
    collect = os.environ.get("COLLECT") == "true"
    answered = OrderedDict()  # the last event ids answered: at-least-once delivery brings duplicates
    while True:
        received = sqs.receive_message(QueueUrl=worker_queue, MaxNumberOfMessages=10, WaitTimeSeconds=20)
        for message in received.get("Messages", []):
            event = read_event(message["Body"])
            if asks_for_tools(event) and event["event_id"] not in answered:
                for body in answers_for(event, [run_call(call) for call in event["tool_calls"]], collect):
                    extra = {"MessageGroupId": message_group(event["reply"])} if input_queue.endswith(".fifo") else {}
                    sqs.send_message(QueueUrl=input_queue, MessageBody=json.dumps(body), **extra)
                answered[event["event_id"]] = True
                while len(answered) > 10000:
                    answered.popitem(last=False)
            # deleted only after the answer is sent: a crash before brings the event back
            sqs.delete_message(QueueUrl=worker_queue, ReceiptHandle=message["ReceiptHandle"])


def answer_stdin(collect):
    for line in sys.stdin:
        if line.strip():
            event = read_event(line)
            if asks_for_tools(event):
                for body in answers_for(event, [run_call(call) for call in event["tool_calls"]], collect):
                    print(json.dumps(body))


if __name__ == "__main__":
    if "--answer" in sys.argv:
        answer_stdin("--collect" in sys.argv)
    else:
        serve()
