"""Gradio's own strings in Vietnamese ("Drop File Here", "Copy message", the footer, queue notices…).

Gradio 6.31 ships no Vietnamese, and its front end picks a locale only among the languages it
ships: a browser set to ``vi-VN`` (or ``en-US``) falls back to ``en``. Custom translations given to
``launch(i18n=...)`` are merged *under* Gradio's bundled English, so nested keys would be
overwritten by it; flat, dotted keys ("upload_text.drop_file") are looked up first by the
front end's i18n library and win. ``TRANSLATIONS`` is therefore registered, flat, for ``en``:
every browser whose language Gradio does not ship (Vietnamese included) and every English one
sees Vietnamese. Keys are those of ``gradio/templates/frontend/assets/en-*.js``.
"""

from __future__ import annotations

TRANSLATIONS: dict[str, str] = {
    # Uploads
    "upload_text.click_to_upload": "Bấm để chọn tệp",
    "upload_text.drop_audio": "Thả tệp âm thanh vào đây",
    "upload_text.drop_csv": "Thả tệp CSV vào đây",
    "upload_text.drop_file": "Thả tệp vào đây",
    "upload_text.drop_image": "Thả ảnh vào đây",
    "upload_text.drop_video": "Thả video vào đây",
    "upload_text.drop_gallery": "Thả tệp vào đây",
    "upload_text.paste_clipboard": "Dán từ bộ nhớ tạm",
    "file.uploading": "Đang tải lên…",
    # Chat
    "chatbot.edit": "Sửa",
    "chatbot.retry": "Hỏi lại",
    "chatbot.undo": "Hoàn tác",
    "chatbot.submit": "Gửi",
    "chatbot.cancel": "Hủy",
    "chatbot.like": "Hữu ích",
    "chatbot.dislike": "Chưa đúng",
    "chatbot.clear": "Xóa cuộc trò chuyện",
    "chatbot.complete": "Xong",
    "chatbot.copy_message": "Sao chép tin nhắn",
    "chatbot.copied_message": "Đã sao chép",
    "chat_interface.new_chat": "Cuộc trò chuyện mới",
    "chat_interface.message_placeholder": "Nhập câu hỏi…",
    "chat_interface.additional_inputs": "Tùy chọn thêm",
    "chat_interface.chatbot": "Hỏi đáp",
    "chat_interface.conversation": "Cuộc trò chuyện",
    # Common
    "common.built_with": "xây dựng bằng",
    "common.built_with_gradio": "Xây dựng bằng Gradio",
    "common.clear": "Xóa",
    "common.download": "Tải xuống",
    "common.download_all": "Tải tất cả",
    "common.edit": "Sửa",
    "common.empty": "Trống",
    "common.error": "Lỗi",
    "common.hosted_on": "Chạy trên",
    "common.loading": "Đang tải",
    "common.logo": "biểu trưng",
    "common.or": "hoặc",
    "common.remove": "Gỡ bỏ",
    "common.runs": "Lượt chạy",
    "common.runs_description": "Xem các lượt chạy lưu trong trình duyệt này",
    "common.back_to_app": "Ứng dụng",
    "common.back_to_app_description": "Quay lại ứng dụng",
    "common.settings": "Cài đặt",
    "common.share": "Chia sẻ",
    "common.submit": "Gửi",
    "common.undo": "Hoàn tác",
    "common.no_devices": "Không tìm thấy thiết bị",
    "common.language": "Ngôn ngữ",
    "common.display_theme": "Giao diện",
    "common.pwa": "Ứng dụng web",
    "common.progress": "Tiến độ",
    "common.record": "Ghi",
    "common.stop_recording": "Dừng ghi",
    "common.screen_studio": "Quay màn hình",
    "common.share_gradio_tab": "Chia sẻ thẻ",
    "common.run": "Chạy",
    # Connection and queue
    "blocks.connection_can_break": "Trên điện thoại, kết nối có thể bị ngắt khi chuyển sang thẻ khác hoặc "
                                   "máy ngủ; lượt chờ sẽ bị mất.",
    "blocks.long_requests_queue": "Đang có nhiều yêu cầu chờ xử lý. Vui lòng đợi.",
    "blocks.lost_connection": "Mất kết nối vì đã rời trang. Đang xếp hàng lại…",
    "blocks.waiting_for_inputs": "Đang chờ tải tệp xong, vui lòng thử lại.",
    "status.queue_position": "Đang chờ: thứ {position}/{size}",
    "errors.build_error": "lỗi khi dựng ứng dụng",
    "errors.config_error": "lỗi cấu hình",
    "errors.contact_page_author": "Vui lòng báo cho người quản trị ứng dụng.",
    "errors.no_app_file": "không có tệp ứng dụng",
    "errors.runtime_error": "lỗi khi chạy",
    "errors.space_not_working": "Ứng dụng không hoạt động vì {0}",
    "errors.space_paused": "ứng dụng đang tạm dừng",
    "errors.use_via_api": "Dùng qua API",
    "errors.use_via_api_or_mcp": "Dùng qua API hoặc MCP",
    # Tables
    "dataframe.incorrect_format": "Sai định dạng: chỉ nhận tệp CSV và TSV",
    "dataframe.new_column": "Thêm cột",
    "dataframe.new_row": "Thêm dòng",
    "dataframe.add_row_above": "Thêm dòng phía trên",
    "dataframe.add_row_below": "Thêm dòng phía dưới",
    "dataframe.delete_row": "Xóa dòng",
    "dataframe.delete_column": "Xóa cột",
    "dataframe.add_column_left": "Thêm cột bên trái",
    "dataframe.add_column_right": "Thêm cột bên phải",
    "dataframe.sort_column": "Sắp xếp cột",
    "dataframe.sort_ascending": "Sắp xếp tăng dần",
    "dataframe.sort_descending": "Sắp xếp giảm dần",
    "dataframe.drop_to_upload": "Thả tệp CSV hoặc TSV vào đây để nhập dữ liệu",
    "dataframe.import_empty_file": "Tệp thả vào trống.",
    "dataframe.import_no_column_names": "Tệp thả vào không có tên cột.",
    "dataframe.import_ragged_row": "Dòng {line} của tệp có {fields} trường, dòng tiêu đề có {columns}.",
    "dataframe.import_static_columns": "Không nhập được vào bảng có cột chỉ đọc.",
    "dataframe.import_fixed_columns": "Bảng này cần đúng {expected} cột, tệp có {actual}.",
    "dataframe.import_fixed_rows": "Bảng này cần đúng {expected} dòng, tệp có {actual}.",
    "dataframe.clear_sort": "Bỏ sắp xếp",
    "dataframe.filter": "Lọc",
    "dataframe.clear_filter": "Bỏ lọc",
    "dropdown.dropdown": "Danh sách chọn",
    # Sign-in (the login page itself is Gradio's)
    "login.enable_cookies": "Hãy cho phép cookie của bên thứ ba nếu đang dùng chế độ ẩn danh.",
    "login.incorrect_credentials": "Sai tên đăng nhập hoặc mật khẩu",
    "login.username": "Tên đăng nhập",
    "login.password": "Mật khẩu",
    "login.login": "Đăng nhập",
    # Component names shown as default labels
    "checkbox.checkbox": "Ô chọn",
    "checkbox.checkbox_group": "Nhóm ô chọn",
    "code.code": "Mã",
    "label.label": "Nhãn",
    "number.number": "Số",
    "plot.plot": "Biểu đồ",
    "radio.radio": "Lựa chọn",
    "slider.slider": "Thanh trượt",
    "highlighted_text.highlighted_text": "Văn bản tô sáng",
    "annotated_image.annotated_image": "Ảnh chú thích",
    "color_picker.color_picker": "Chọn màu",
    "image.image": "Ảnh",
    "image.remove_image": "Gỡ ảnh",
    "image.drop_to_upload": "Thả ảnh vào đây để tải lên",
    "audio.audio": "Âm thanh",
    "audio.drop_to_upload": "Thả tệp âm thanh vào đây để tải lên",
    "video.drop_to_upload": "Thả tệp video vào đây để tải lên",
}


def gradio_i18n():
    """The ``gr.I18n`` given to ``launch``."""
    import gradio as gr

    return gr.I18n(en=TRANSLATIONS)
